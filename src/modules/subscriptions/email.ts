import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import { escapeHtml } from '../../lib/html.js';
import type { Report } from './report.js';
import { reportText } from './report.js';
import { DeliveryError } from './delivery-error.js';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Images shown inline (<img src="cid:…">). */
  inline: { cid: string; filename: string; content: Buffer; contentType: string }[];
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
  close(): void;
}

/** The pool: at most 5 connections per process, 100 messages per connection, an idle connection closed after 10 s. */
const POOL = { maxConnections: 5, maxMessages: 100, idleTimeout: 10_000 };

/**
 * nodemailer over SMTP with PostHog's self-host settings; without EMAIL_HOST every send fails (not retried). The
 * connections are pooled: a burst of reports (every subscription due at 09:00) reuses a few connections instead of a
 * connect, greeting and EHLO per message (many servers delay their greeting; smtp-server by 100 ms). close() ends them.
 */
export function createMailer(settings: Config['email']): Mailer {
  const transport =
    settings.host === undefined
      ? null
      : nodemailer.createTransport({
          pool: true,
          ...POOL,
          host: settings.host,
          port: settings.port,
          secure: settings.useSsl,
          requireTLS: settings.useTls,
          ignoreTLS: !settings.useTls && !settings.useSsl,
          ...(settings.user !== undefined && { auth: { user: settings.user, pass: settings.password ?? '' } }),
          connectionTimeout: 15_000,
          greetingTimeout: 15_000,
          socketTimeout: 30_000,
        });
  return {
    async send(message) {
      if (!transport) throw new DeliveryError('Email is not configured: set EMAIL_HOST', false);
      try {
        await transport.sendMail({
          from: settings.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          attachments: message.inline.map((a) => ({ cid: a.cid, filename: a.filename, content: a.content, contentType: a.contentType, contentDisposition: 'inline' as const })),
        });
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        const code = (error as { responseCode?: number }).responseCode;
        // A 5xx reply refuses this message for good; a 4xx or a connection problem may go away.
        throw new DeliveryError(`Email to ${message.to} failed: ${text}`, code === undefined || code < 500);
      }
    },
    close: () => transport?.close(),
  };
}


const UTM = 'utm_source=burrow&utm_campaign=subscription_report&utm_medium=email';

/** The report email of one recipient: plain text and HTML, the image inline and linked, the unsubscribe link. */
export function reportEmail(
  report: Report,
  options: { to: string; subject: string; intro?: string[]; unsubscribeUrl: string; images: Map<number, Buffer> },
): EmailMessage {
  const intro = options.intro ?? [];
  const text = [...intro, ...(intro.length > 0 ? [''] : []), reportText(report), '', `Unsubscribe: ${options.unsubscribeUrl}`].join('\n');
  const html: string[] = ['<!doctype html><html><body style="font-family: sans-serif">'];
  for (const line of intro) html.push(`<p>${escapeHtml(line)}</p>`);
  html.push(`<h2>${escapeHtml(report.title)}</h2>`, `<p>From ${escapeHtml(report.period.from)} to ${escapeHtml(report.period.to)}.</p>`);
  const inline: EmailMessage['inline'] = [];
  for (const asset of report.assets) {
    const bytes = options.images.get(asset.id);
    const cid = `asset-${asset.id}@burrow`;
    if (bytes) inline.push({ cid, filename: `${asset.name.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'heatmap'}.png`, content: bytes, contentType: asset.content_type });
    html.push(
      `<p><a href="${escapeHtml(asset.url)}">${bytes ? `<img src="cid:${cid}" alt="${escapeHtml(asset.name)}" style="max-width: 100%">` : escapeHtml(asset.name)}</a></p>`,
    );
  }
  if (report.recordings) {
    const r = report.recordings;
    html.push(`<p>${r.total === 0 ? 'No new recordings matched.' : `${r.total}${r.total_is_lower_bound ? '+' : ''} new recording${r.total === 1 ? '' : 's'} matched:`}</p>`);
    if (r.shown.length > 0) {
      html.push('<table cellpadding="4"><tr><th>Started</th><th>Duration</th><th>Person</th><th>Start URL</th><th>Clicks</th><th>Console errors</th><th></th></tr>');
      for (const rec of r.shown) {
        html.push(
          `<tr><td>${escapeHtml(rec.start_time)}</td><td>${rec.duration} s</td><td>${escapeHtml(rec.person)}</td><td>${escapeHtml(rec.start_url ?? '')}</td>` +
            `<td>${rec.click_count}</td><td>${rec.console_error_count}</td><td><a href="${escapeHtml(rec.player_url)}">Watch</a></td></tr>`,
        );
      }
      html.push('</table>');
    }
    if (r.more > 0) html.push(`<p>and ${r.more}${r.total_is_lower_bound ? '+' : ''} more.</p>`);
  }
  const manage = `${report.subscription.url}?${UTM}`;
  html.push(
    `<p>This subscription is ${escapeHtml(report.subscription.summary)}. <a href="${escapeHtml(manage)}">Manage subscription</a></p>`,
    `<p style="color: #666; font-size: small"><a href="${escapeHtml(options.unsubscribeUrl)}">Unsubscribe</a></p>`,
    '</body></html>',
  );
  return { to: options.to, subject: options.subject, text, html: html.join('\n'), inline };
}
