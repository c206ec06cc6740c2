import type { TeamRow } from '../../db/schema/index.js';
import { isoZ } from '../../lib/time.js';
import type { RecordingRow } from '../recordings/index.js';
import type { SubscriptionWithRefs } from './repository.js';

/** A recordings report lists this many recordings, then says how many more matched. */
export const REPORT_RECORDINGS = 20;
/** Recordings counted at most for "and N more". */
export const COUNTED_RECORDINGS = 1000;

export interface ReportRecording {
  session_id: string;
  start_time: string;
  duration: number;
  person: string;
  start_url: string | null;
  click_count: number;
  keypress_count: number;
  console_error_count: number;
  player_url: string;
}

/** What a delivery sends (the webhook's JSON body; an email's content). */
export interface Report {
  event: 'subscription_report';
  delivery_id: string;
  title: string;
  subscription: { id: number; title: string | null; summary: string; url: string };
  resource: { type: 'heatmap' | 'recordings'; name: string | null; url: string | null };
  period: { from: string; to: string };
  /** Exported images: their public /exporter/ links. */
  assets: { id: number; name: string; url: string; content_type: string }[];
  recordings?: { total: number; total_is_lower_bound: boolean; shown: ReportRecording[]; more: number };
}

export interface ReportSources {
  startedSince: (team: TeamRow, query: Record<string, unknown>, since: string, limit: number) => Promise<RecordingRow[]>;
}

export const subscriptionUrl = (siteUrl: string, sub: Pick<SubscriptionWithRefs, 'teamId' | 'id'>) => `${siteUrl}/project/${sub.teamId}/subscriptions/${sub.id}`;

/** Where the subscription's resource is seen in Burrow: the saved heatmap's page, or the recordings list. */
export const resourceUrl = (siteUrl: string, sub: Pick<SubscriptionWithRefs, 'teamId' | 'heatmap'>) =>
  sub.heatmap ? `${siteUrl}/project/${sub.teamId}/heatmaps/${sub.heatmap.shortId}` : `${siteUrl}/project/${sub.teamId}/replay`;

/** The recordings that started in the period, newest first: 20 listed, and how many more. */
export async function recordingsReport(sources: ReportSources, team: TeamRow, query: Record<string, unknown>, since: string, siteUrl: string): Promise<NonNullable<Report['recordings']>> {
  const rows = await sources.startedSince(team, query, since, COUNTED_RECORDINGS);
  const lowerBound = rows.length > COUNTED_RECORDINGS;
  const total = Math.min(rows.length, COUNTED_RECORDINGS);
  const shown = rows.slice(0, REPORT_RECORDINGS).map(
    (row): ReportRecording => ({
      session_id: row.session_id,
      start_time: isoZ(row.start_time),
      duration: row.duration,
      person: row.distinct_id,
      start_url: row.first_url ?? row.urls[0] ?? null,
      click_count: row.click_count,
      keypress_count: row.keypress_count,
      console_error_count: row.console_error_count,
      player_url: `${siteUrl}/project/${team.id}/replay/${encodeURIComponent(row.session_id)}`,
    }),
  );
  return { total, total_is_lower_bound: lowerBound, shown, more: total - shown.length };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report as plain text (emails; logs). */
export function reportText(report: Report): string {
  const lines = [report.title, '', `From ${report.period.from} to ${report.period.to}.`, ''];
  if (report.recordings) {
    const r = report.recordings;
    lines.push(r.total === 0 ? 'No new recordings matched.' : `${plural(r.total, 'new recording')}${r.total_is_lower_bound ? ' or more' : ''} matched:`);
    for (const rec of r.shown) {
      lines.push(`- ${rec.start_time}, ${rec.duration} s, ${rec.person}${rec.start_url ? `, ${rec.start_url}` : ''} (${plural(rec.click_count, 'click')}, ${plural(rec.console_error_count, 'console error')}): ${rec.player_url}`);
    }
    if (r.more > 0) lines.push(`and ${r.more}${r.total_is_lower_bound ? '+' : ''} more.`);
  }
  for (const asset of report.assets) lines.push(`${asset.name}: ${asset.url}`);
  lines.push('', `This subscription is ${report.subscription.summary}. Manage it: ${report.subscription.url}`);
  return lines.join('\n');
}
