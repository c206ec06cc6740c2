import { z } from 'zod';
import type { TeamRow } from '../../db/schema/index.js';
import type { JobDefinitions, JobEnqueuer, JobLogger, JobQueue } from '../../jobs/queue.js';
import type { AreaJobs, JobHandler } from '../../jobs/registry.js';
import { newUuid } from '../../lib/ids.js';
import { encodeJwt, JwtAudience } from '../../lib/jwt.js';
import { epochMs, fromDate, isoZ } from '../../lib/time.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { ExportsService } from '../exports/index.js';
import { type Report, type ReportSources, recordingsReport, resourceUrl, subscriptionUrl } from './report.js';
import { type SlackDeps, sendSlackReport, slackChannelOf } from './slack.js';
import { ABANDONED_PREFIX, type SubscriptionDeliveryRow, type SubscriptionsRepository, type SubscriptionWithRefs } from './repository.js';
import { DEFAULT_HEATMAP_WIDTH } from './contract.js';
import { escapeHtml } from '../../lib/html.js';
import { type Mailer, reportEmail } from './email.js';
import { LOOK_AHEAD_MS, nextDeliveryDate, scheduleOf, summaryOf } from './rules.js';
import { DeliveryError } from './delivery-error.js';
import { postWebhook, webhookSigningKey } from './webhook.js';

/** A delivery that fails for now (a timeout, a 5xx) is tried again with the queue's backoff (2, 4, 8 s …). */
const MAX_ATTEMPTS = 4;
/** An unsubscribe link's life (PostHog's). */
export const UNSUBSCRIBE_TTL_SECONDS = 30 * 24 * 60 * 60;
const SCHEDULER_DEDUPE_KEY = 'subscriptions.schedule';
const SCHEDULER_INTERVAL_MS = 60_000;
/** Due subscriptions read per query; a scheduler run reads page after page until it has queued every due one. */
export const DUE_BATCH = 500;
/** Job statuses in which a job will still run (so the delivery it holds is not abandoned). */
const LIVE_JOB_STATUSES = new Set(['queued', 'running']);
/** The error of a scheduled delivery that its slot's rule change left unsent. */
export const SCHEDULE_CHANGED = "The subscription's schedule changed before this delivery was sent";
/** How far back the scheduler looks for delivery jobs that failed without finishing their delivery (it runs every minute). */
const ABANDONED_LOOKBACK_MS = 24 * 60 * 60 * 1000;
/** An invite's report covers the last week. */
const INVITE_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;

export const subscriptionJobDefinitions = {
  'subscriptions.schedule': z.object({}),
  /**
   * slot: the next_delivery_date being delivered, as stored; or invite: the report sent to the recipients a target
   * change added (key: the change's, for the delivery row's idempotency key).
   */
  'subscription.deliver': z.object({
    subscriptionId: z.number().int(),
    slot: z.string().optional(),
    invite: z.object({ key: z.string(), previousValue: z.string().nullable(), message: z.string(), inviter: z.string().nullable() }).optional(),
    /** A test delivery (test-delivery/): the report now, to every recipient; the schedule does not move. */
    manual: z.object({ key: z.string() }).optional(),
  }),
} satisfies JobDefinitions;

/** At most one queued test delivery per subscription. */
export const manualDedupeKey = (subscriptionId: number) => `manual:${subscriptionId}`;

export type DeliverPayload = z.output<(typeof subscriptionJobDefinitions)['subscription.deliver']>;
export type Invite = NonNullable<DeliverPayload['invite']>;

export type SubscriptionJobQueue = JobEnqueuer<typeof subscriptionJobDefinitions> & Pick<JobQueue<typeof subscriptionJobDefinitions>, 'enqueueMany' | 'get'>;

export interface SubscriptionJobsDeps {
  subscriptions: Pick<
    SubscriptionsRepository,
    | 'due'
    | 'findAnyTeam'
    | 'findTeam'
    | 'update'
    | 'advance'
    | 'startDelivery'
    | 'deliveryByKey'
    | 'takeOverDelivery'
    | 'endDelivery'
    | 'failAbandonedDeliveries'
    | 'updateDelivery'
    | 'lastReportTime'
  >;
  queue: SubscriptionJobQueue;
  guard: UrlGuard;
  exports: Pick<ExportsService, 'createForSubscription' | 'subscriptionAsset' | 'assetBytes'>;
  sources: ReportSources;
  mailer: Pick<Mailer, 'send'>;
  slack: SlackDeps;
  secretKey: () => Promise<string>;
  /** SITE_URL, or http://localhost:PORT: the links in reports. */
  siteUrl: string;
}

/**
 * A scheduler pass: one job per due subscription and slot, for every due subscription (DUE_BATCH of them read and
 * queued in one statement at a time); a slot already queued is not queued twice (the dedupe key). First, the
 * deliveries whose job gave up on them (its worker died on its last attempt, and the queue failed it without running
 * it again) end failed: no job would finish them. A slot's row ended so has its schedule moved on by the job this pass
 * queues for it.
 */
export async function enqueueDueDeliveries(deps: Pick<SubscriptionJobsDeps, 'subscriptions' | 'queue'>, now = new Date()): Promise<number> {
  await deps.subscriptions.failAbandonedDeliveries('subscription.deliver', fromDate(new Date(now.getTime() - ABANDONED_LOOKBACK_MS)));
  const horizon = fromDate(new Date(now.getTime() + LOOK_AHEAD_MS));
  let queued = 0;
  let after: { nextDeliveryDate: string; id: number } | undefined;
  for (;;) {
    const due = await deps.subscriptions.due(horizon, DUE_BATCH, after);
    queued += await deps.queue.enqueueMany(
      'subscription.deliver',
      due.map((sub) => ({ payload: { subscriptionId: sub.id, slot: sub.nextDeliveryDate }, dedupeKey: `${sub.id}:${epochMs(sub.nextDeliveryDate)}` })),
      { maxAttempts: MAX_ATTEMPTS },
    );
    if (due.length < DUE_BATCH) return queued;
    const last = due[due.length - 1]!;
    after = { nextDeliveryDate: last.nextDeliveryDate, id: last.id };
  }
}

async function scheduleScheduler(queue: SubscriptionJobQueue, delayMs: number): Promise<void> {
  await queue.enqueue('subscriptions.schedule', {}, { dedupeKey: SCHEDULER_DEDUPE_KEY, delayMs });
}

/** A delivery waits this long for its heatmap image before it fails. */
const ASSET_WAIT_MS = 30 * 60 * 1000;
/** How soon a delivery whose image is still being made looks again (a new job: no worker is held while it waits). */
const ASSET_POLL_MS = 1000;

/** Thrown when the report's image is not made yet: the delivery continues in a new job. */
class AssetPending extends Error {}

/**
 * The saved heatmap's image: an image/png export of its page with the points since `since` (created once per
 * delivery, its id kept on the delivery row), and its public /exporter/ link once it is made.
 */
async function heatmapAsset(
  deps: SubscriptionJobsDeps,
  sub: SubscriptionWithRefs,
  delivery: { id: string; exportedAssetIds: number[]; createdAt: string },
  since: string,
): Promise<Report['assets'][number]> {
  const heatmap = sub.heatmap!;
  let exportId = delivery.exportedAssetIds[0];
  if (exportId === undefined) {
    exportId = await deps.exports.createForSubscription(sub.teamId, 'image/png', {
      heatmap_url: heatmap.url,
      ...(heatmap.dataUrl && { heatmap_data_url: heatmap.dataUrl }),
      width: sub.width ?? DEFAULT_HEATMAP_WIDTH,
      date_from: since,
      filename: `heatmap-${heatmap.shortId}`,
    });
    await deps.subscriptions.updateDelivery(delivery.id, { exportedAssetIds: [exportId] });
  }
  const asset = await deps.exports.subscriptionAsset(exportId);
  if (asset.state === 'failed') throw new DeliveryError(`The heatmap image could not be made: ${asset.exception}`, false);
  if (asset.state === 'pending') {
    if (Date.now() - epochMs(delivery.createdAt) > ASSET_WAIT_MS) throw new DeliveryError('The heatmap image was not made within 30 minutes', false);
    throw new AssetPending();
  }
  return { id: exportId, name: heatmap.name || heatmap.url, url: `${deps.siteUrl}${asset.path}`, content_type: 'image/png' };
}

async function buildReport(
  deps: SubscriptionJobsDeps,
  sub: SubscriptionWithRefs,
  team: TeamRow,
  delivery: { id: string; exportedAssetIds: number[]; createdAt: string },
  since: string,
  to: string,
): Promise<Report> {
  const deliveryId = delivery.id;
  const name = sub.heatmap ? sub.heatmap.name || sub.heatmap.url : null;
  const report: Report = {
    event: 'subscription_report',
    delivery_id: deliveryId,
    title: '',
    subscription: { id: sub.id, title: sub.title, summary: summaryOf(scheduleOf(sub)), url: subscriptionUrl(deps.siteUrl, sub) },
    resource: { type: sub.savedHeatmapId !== null ? 'heatmap' : 'recordings', name, url: sub.heatmap?.url ?? null },
    period: { from: since, to },
    assets: [],
  };
  if (sub.recordingsQuery !== null) {
    report.title = `Burrow recordings report - ${sub.title || 'Recordings'}`;
    report.recordings = await recordingsReport(deps.sources, team, sub.recordingsQuery, since, deps.siteUrl);
  } else {
    report.title = `Burrow heatmap report - ${sub.title || name || 'Heatmap'}`;
    report.assets.push(await heatmapAsset(deps, sub, delivery, since));
  }
  return report;
}

interface RecipientResult {
  recipient: string;
  status: 'success' | 'failed';
  error?: string;
  retry?: boolean;
}

const KIND_LABEL = { heatmap: 'Heatmap', recordings: 'Recordings' } as const;

/** Sends the report to the target; one result per recipient (an invite: only the addresses or channel the change added). */
async function send(deps: SubscriptionJobsDeps, sub: SubscriptionWithRefs, report: Report, invite: Invite | null, signal: AbortSignal): Promise<RecipientResult[]> {
  if (sub.targetType === 'webhook') {
    if (invite) return [];
    await postWebhook(deps.guard, sub.targetValue, JSON.stringify(report), webhookSigningKey(await deps.secretKey()), signal);
    return [{ recipient: sub.targetValue, status: 'success' }];
  }
  const images = new Map<number, Buffer>();
  for (const asset of report.assets) {
    const bytes = await deps.exports.assetBytes(asset.id);
    if (bytes) images.set(asset.id, bytes);
  }
  const kind = KIND_LABEL[report.resource.type];
  const name = sub.title || report.resource.name || kind;
  /** §4.8's "The next subscription will be sent on …" (Slack says "the next one"). */
  const nextLine = (noun: string) => {
    const next = sub.nextDeliveryDate === null ? null : new Date(epochMs(sub.nextDeliveryDate));
    return next ? ` The next ${noun} will be sent on ${longDate(next, sub.timezone)}.` : '';
  };
  if (sub.targetType === 'slack') {
    if (invite && invite.previousValue !== null && slackChannelOf(invite.previousValue) === slackChannelOf(sub.targetValue)) return [];
    const subject = `${report.resource.type === 'heatmap' ? 'heatmap' : 'recordings query'} *${name}*`;
    const channel = await sendSlackReport(
      deps.slack,
      {
        teamId: sub.teamId,
        integrationId: sub.integrationId,
        targetValue: sub.targetValue,
        subject,
        invite: invite && `This channel has been subscribed to the ${subject} on Burrow! 🎉\nThis subscription is ${report.subscription.summary}.${nextLine('one')}`,
        viewUrl: resourceUrl(deps.siteUrl, sub),
        report,
        images,
      },
      signal,
    );
    return [{ recipient: channel, status: 'success' }];
  }
  if (sub.targetType !== 'email') throw new DeliveryError(`Delivery to ${sub.targetType} is not supported`, false, true);
  const previous = new Set(invite?.previousValue?.split(',') ?? []);
  const recipients = recipientsOf(sub).filter((address) => !invite || !previous.has(address));
  const results: RecipientResult[] = [];
  for (const address of recipients) {
    const token = encodeJwt(await deps.secretKey(), { id: sub.id, email: address }, UNSUBSCRIBE_TTL_SECONDS, JwtAudience.unsubscribe);
    const unsubscribeUrl = `${deps.siteUrl}/api/unsubscribe?token=${token}`;
    let subject = `Burrow ${kind} report - ${name}`;
    let intro: string[] | undefined;
    if (invite) {
      const byCreator = sub.createdBy?.email === address;
      subject = byCreator ? `You have been subscribed to a Burrow ${kind} report` : `${invite.inviter || 'Someone'} subscribed you to a Burrow ${kind} report`;
      intro = [...(invite.message ? [invite.message] : []), `This subscription is ${report.subscription.summary}.${nextLine('subscription')}`];
    }
    try {
      await deps.mailer.send(reportEmail(report, { to: address, subject, intro, unsubscribeUrl, images }));
      results.push({ recipient: address, status: 'success' });
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      results.push({ recipient: address, status: 'failed', error: error.message, retry: error.retry });
    }
  }
  return results;
}

/** Python's %A %B %d, %Y in the subscription's time zone: "Monday January 07, 2030". */
function longDate(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { weekday: 'long', month: 'long', day: '2-digit', year: 'numeric', timeZone }).formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.month} ${parts.day}, ${parts.year}`;
}

/**
 * Delivers one scheduled slot of a subscription (§4.9), or an invite after a target change (§4.8): a delivery row
 * (starting → completed, failed or skipped), the report, the send, then for a slot next_delivery_date moves on from
 * it. Idempotent: the row's idempotency key makes a slot (or an invite) delivered once; a run that finds the row held
 * by a live job leaves it to that job, and one that finds it finished only makes sure the schedule moved on. A row
 * stays `starting` only while a job that will still run holds it: a run that cannot deliver it ends it.
 */
export function createDeliverHandler(deps: SubscriptionJobsDeps): JobHandler<DeliverPayload> {
  return async ({ job, payload, signal, log }) => {
    const sub = await deps.subscriptions.findAnyTeam(payload.subscriptionId);
    if (!sub) return;
    const { invite, manual } = payload;
    const slot = payload.slot ?? null;
    if (slot === null && !invite && !manual) return;
    const idempotencyKey = slot !== null ? `scheduled:${epochMs(slot)}` : invite ? `target_change:${invite.key}` : `manual:${manual!.key}`;

    /**
     * Who holds a `starting` row: this job (a retry, or a run after its worker died), a job that will still run, a job
     * that handed it on to a queued job of the same payload (succeeded after queueing its follow-up, or superseded by
     * its queued twin), or a job that gave up (failed: its worker died on its last attempt) or is gone.
     */
    const holderOf = async (row: SubscriptionDeliveryRow): Promise<{ state: 'self' | 'live' | 'handed-on' | 'gone'; error?: string | null }> => {
      if (row.jobId === job.id) return { state: 'self' };
      const holder = row.jobId === null ? undefined : await deps.queue.get(row.jobId);
      if (!holder || holder.status === 'failed') return { state: 'gone', error: holder?.lastError };
      return { state: LIVE_JOB_STATUSES.has(holder.status) ? 'live' : 'handed-on' };
    };
    /** Ends the row as failed or skipped unless a live job holds it (that job ends it). */
    const end = async (row: SubscriptionDeliveryRow, status: 'failed' | 'skipped', message: string): Promise<void> => {
      if ((await holderOf(row)).state === 'live') return;
      await deps.subscriptions.endDelivery(row.id, row.jobId, { status, error: { message } });
    };

    if (slot !== null) {
      if (sub.nextDeliveryDate === null || epochMs(sub.nextDeliveryDate) !== epochMs(slot)) {
        // The schedule moved on: the slot was delivered, or the rule was edited or re-enabled since the slot was
        // queued. A delivery an earlier run of the slot started is not sent any more.
        const row = await deps.subscriptions.deliveryByKey(sub.id, idempotencyKey);
        if (row?.status === 'starting') await end(row, 'skipped', SCHEDULE_CHANGED);
        return;
      }
      // Not due yet (the scheduler's look-ahead).
      if (epochMs(slot) > Date.now() + LOOK_AHEAD_MS) return;
    }
    const advance = async () => {
      if (slot === null) return;
      const next = nextDeliveryDate(scheduleOf(sub), new Date(), new Date(epochMs(slot)));
      await deps.subscriptions.advance(sub.id, slot, next && fromDate(next));
    };
    const skip = sub.deleted ? 'The subscription is deleted' : !sub.enabled ? 'The subscription is disabled' : null;
    const { row, created } = await deps.subscriptions.startDelivery({
      id: newUuid(),
      teamId: sub.teamId,
      subscriptionId: sub.id,
      jobId: job.id,
      idempotencyKey,
      triggerType: slot !== null ? 'scheduled' : invite ? 'target_change' : 'manual',
      scheduledAt: slot,
      targetType: sub.targetType,
      targetValue: sub.targetValue,
      status: skip ? 'skipped' : 'starting',
      ...(skip && { finishedAt: fromDate(new Date()), error: { message: skip } }),
    });
    if (!created) {
      if (row.status !== 'starting') {
        // Finished by an earlier run, which may have stopped before moving the schedule on.
        await advance();
        return;
      }
      const holder = await holderOf(row);
      if (holder.state === 'live') {
        log.info({ subscriptionId: sub.id, holder: row.jobId }, 'delivery held by another job');
        return;
      }
      if (holder.state === 'gone') {
        // Its job gave up without recording why (the scheduler's sweep ends such rows too): it ends failed, as a
        // delivery whose last attempt failed does.
        await deps.subscriptions.endDelivery(row.id, row.jobId, { status: 'failed', error: { message: `${ABANDONED_PREFIX}${holder.error ?? 'its job is gone'}` } });
        await advance();
        return;
      }
      if (skip) {
        // Disabled or deleted since an earlier run started it.
        await deps.subscriptions.endDelivery(row.id, row.jobId, { status: 'skipped', error: { message: skip } });
        return;
      }
      if (holder.state === 'handed-on' && !(await deps.subscriptions.takeOverDelivery(row.id, row.jobId, job.id))) return;
    }
    if (skip) return;
    const team = await deps.subscriptions.findTeam(sub.teamId);
    if (!team) return;
    // A scheduled or test report covers what happened since the last scheduled one (or since the subscription was
    // made); an invite's, the last week.
    const since = invite
      ? new Date(Date.now() - INVITE_PERIOD_MS).toISOString()
      : isoZ((await deps.subscriptions.lastReportTime(sub.id, slot ?? fromDate(new Date()))) ?? sub.createdAt);
    let report: Report | undefined;
    try {
      report = await buildReport(deps, sub, team, row, since, new Date().toISOString());
      const results = await send(deps, sub, report, invite ?? null, signal);
      const delivered = results.some((r) => r.status === 'success');
      const failures = results.filter((r) => r.status === 'failed');
      if (!delivered && failures.length > 0) throw new DeliveryError(failures[0]!.error!, failures.some((f) => f.retry));
      await deps.subscriptions.updateDelivery(row.id, {
        status: 'completed',
        recipientResults: results.map(({ retry: _retry, ...result }) => result),
        contentSnapshot: snapshotOf(report),
        exportedAssetIds: report.assets.map((a) => a.id),
        error: failures.length > 0 ? { message: `${failures.length} of ${results.length} recipients failed` } : null,
      });
      log.info({ subscriptionId: sub.id, deliveryId: row.id }, 'subscription delivered');
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof AssetPending) {
        // The image is being made: look again in a new job, which holds the delivery from now on (so the row always
        // names a job that will still run).
        const next = await deps.queue.enqueue('subscription.deliver', payload, {
          ...(slot !== null && { dedupeKey: `${sub.id}:${epochMs(slot)}` }),
          ...(manual && { dedupeKey: manualDedupeKey(sub.id) }),
          delayMs: ASSET_POLL_MS,
          maxAttempts: MAX_ATTEMPTS,
        });
        await deps.subscriptions.takeOverDelivery(row.id, job.id, next.id);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      const retry = error instanceof DeliveryError ? error.retry : true;
      if (retry && job.attempts < job.maxAttempts) {
        await deps.subscriptions.updateDelivery(row.id, { error: { message, attempt: job.attempts } });
        throw error;
      }
      log.warn({ err: error, subscriptionId: sub.id, deliveryId: row.id }, 'subscription delivery failed');
      await deps.subscriptions.updateDelivery(row.id, {
        status: 'failed',
        recipientResults: recipientsOf(sub).map((recipient) => ({ recipient, status: 'failed', error: message })),
        ...(report && { contentSnapshot: snapshotOf(report) }),
        error: { message },
      });
      if (error instanceof DeliveryError && error.broken) await autoDisable(deps, sub, message, log);
    }
    await advance();
  };
}

/** §4.9: a target that cannot be delivered to disables the subscription, and its creator is told by email. */
async function autoDisable(deps: SubscriptionJobsDeps, sub: SubscriptionWithRefs, reason: string, log: JobLogger): Promise<void> {
  await deps.subscriptions.update(sub.teamId, sub.id, { enabled: false });
  log.warn({ subscriptionId: sub.id, reason }, 'subscription automatically disabled');
  const to = sub.createdBy?.email;
  if (!to) return;
  const subject = sub.title ? `Burrow subscription "${sub.title}" has been automatically disabled` : 'Your Burrow subscription has been automatically disabled';
  const url = subscriptionUrl(deps.siteUrl, sub);
  const text = `Your subscription ${sub.title ? `"${sub.title}" ` : ''}could not be delivered and has been disabled: ${reason}\n\nFix its target and re-enable it: ${url}`;
  const html = `<p>Your subscription ${sub.title ? `&quot;${escapeHtml(sub.title)}&quot; ` : ''}could not be delivered and has been disabled: ${escapeHtml(reason)}</p><p><a href="${escapeHtml(url)}">Fix its target and re-enable it</a></p>`;
  try {
    await deps.mailer.send({ to, subject, text, html, inline: [] });
  } catch (error) {
    log.warn({ err: error, subscriptionId: sub.id }, 'could not tell the creator that the subscription was disabled');
  }
}

function recipientsOf(sub: Pick<SubscriptionWithRefs, 'targetType' | 'targetValue'>): string[] {
  if (sub.targetType === 'email') return sub.targetValue.split(',').filter((address) => address !== '');
  return [sub.targetType === 'slack' ? slackChannelOf(sub.targetValue) : sub.targetValue];
}

function snapshotOf(report: Report): Record<string, unknown> {
  return {
    title: report.title,
    period: report.period,
    ...(report.recordings && { total_recording_count: report.recordings.total, recordings: report.recordings.shown.map((r) => r.session_id) }),
    assets: report.assets.map((a) => a.id),
  };
}

export function createSubscriptionJobs(deps: SubscriptionJobsDeps): AreaJobs<typeof subscriptionJobDefinitions> {
  return {
    definitions: subscriptionJobDefinitions,
    handlers: {
      'subscriptions.schedule': async ({ log }) => {
        try {
          const queued = await enqueueDueDeliveries(deps);
          if (queued > 0) log.info({ queued }, 'subscription deliveries queued');
        } finally {
          await scheduleScheduler(deps.queue, SCHEDULER_INTERVAL_MS);
        }
      },
      'subscription.deliver': createDeliverHandler(deps),
    },
    schedule: () => scheduleScheduler(deps.queue, 0),
  };
}
