import { SlackApiError, type SlackClient } from '../integrations/index.js';
import { DeliveryError } from './delivery-error.js';
import type { Report } from './report.js';

export interface SlackDeps {
  /** The bot token of the team's Slack integration; null when there is none (deleted, or another SECRET_KEY). */
  token: (teamId: number, integrationId: number) => Promise<string | null>;
  client: Pick<SlackClient, 'postMessage' | 'uploadFile'>;
}

export interface SlackReport {
  teamId: number;
  integrationId: number | null;
  /** target_value: `<channel id>|#<name>`; the part before `|` is the channel. */
  targetValue: string;
  /** "heatmap *Checkout*" or "recordings query *Errors*". */
  subject: string;
  /** An invite's text (a channel newly subscribed), instead of the report's. */
  invite: string | null;
  /** Where the resource is seen in Burrow, and where the subscription is managed. */
  viewUrl: string;
  report: Report;
  images: Map<number, Buffer>;
}

export const slackChannelOf = (targetValue: string): string => targetValue.split('|')[0]!;

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const button = (text: string, url: string) => ({ type: 'button', text: { type: 'plain_text', text }, url });

/** Slack's mrkdwn escapes: &, < and > (a link is <url|text>). */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Posts the report as §4.9 does: the main message (what is ready, a pointer to the thread, and the View / Manage
 * buttons), then the thread: the heatmap image as an uploaded file, or the list of new recordings (20 at most, then
 * "and N more"). Slack's errors become DeliveryErrors: a channel or token that is gone is `broken`, a rate limit or
 * an outage may work later.
 */
export async function sendSlackReport(deps: SlackDeps, input: SlackReport, signal: AbortSignal): Promise<string> {
  const token = input.integrationId === null ? null : await deps.token(input.teamId, input.integrationId);
  if (token === null) throw new DeliveryError('Slack subscription has no integration configured. Reconnect Slack first.', false, true);
  const channel = slackChannelOf(input.targetValue);
  const { report } = input;
  const recordings = report.recordings;
  const headline = input.invite ?? `Your subscription to the ${input.subject} is ready! 🎉`;
  const blocks: unknown[] = [section(headline)];
  if (recordings) {
    blocks.push(
      section(recordings.total === 0 ? 'No new recordings matched in this period.' : `${plural(recordings.total, 'new recording')}${recordings.total_is_lower_bound ? ' or more' : ''} matched.`),
    );
  }
  const threaded = report.assets.length > 0 || (recordings?.shown.length ?? 0) > 0;
  if (threaded) blocks.push(context(report.assets.length > 0 ? '_See 🧵 for the heatmap_' : '_See 🧵 for the recordings_'));
  blocks.push({ type: 'divider' }, { type: 'actions', elements: [button('View in Burrow', input.viewUrl), button('Manage Subscription', report.subscription.url)] });
  try {
    const ts = await deps.client.postMessage(token, { channel, text: headline, blocks }, signal);
    for (const asset of report.assets) {
      const bytes = input.images.get(asset.id);
      if (!bytes) throw new DeliveryError(`The image of ${asset.name} could not be read`, true);
      await deps.client.uploadFile(token, { channel, threadTs: ts, filename: `${asset.name.replace(/[^\w.-]+/g, '-')}.png`, title: asset.name, altText: asset.name, bytes }, signal);
    }
    if (recordings && recordings.shown.length > 0) {
      const lines = recordings.shown.map(
        (r) =>
          `<${r.player_url}|${r.start_time}> · ${r.duration} s · ${escapeSlack(r.person)}${r.start_url ? ` · ${escapeSlack(r.start_url)}` : ''} · ${plural(r.click_count, 'click')} · ${plural(r.console_error_count, 'console error')}`,
      );
      const more = recordings.more > 0 ? [context(`and ${recordings.more}${recordings.total_is_lower_bound ? '+' : ''} more`)] : [];
      await deps.client.postMessage(token, { channel, thread_ts: ts, text: lines.join('\n'), blocks: [...lines.map(section), ...more] }, signal);
    }
  } catch (error) {
    if (error instanceof SlackApiError) throw new DeliveryError(error.message, error.transient, error.broken);
    throw error;
  }
  return channel;
}
