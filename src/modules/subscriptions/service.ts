import { ConflictError, NotFoundError, PermissionDeniedError, ValidationError } from '../../lib/errors.js';
import type { JobEnqueuer } from '../../jobs/queue.js';
import { newUuid, serialId, uuidLookup } from '../../lib/ids.js';
import { decodeJwt, JwtAudience } from '../../lib/jwt.js';
import { epochMs, fromDate, isoZ } from '../../lib/time.js';
import type { PageParams } from '../../lib/wire.js';
import type { UrlGuard } from '../../net/url-guard.js';
import { type Actor, type TeamAccess, toUserBasic } from '../identity/index.js';
import type { IntegrationsService } from '../integrations/index.js';
import { parseRecordingsQuery } from '../recordings/index.js';
import {
  type CreateSubscriptionInput,
  DEFAULT_HEATMAP_WIDTH,
  DELIVERY_STATUSES,
  type Frequency,
  type PatchSubscriptionInput,
  RESOURCE_TYPES,
  type ResourceType,
  type Subscription,
  type SubscriptionDelivery,
  type SubscriptionListInput,
  TARGET_TYPES,
  type Weekday,
} from './contract.js';
import type { NewSubscription, SubscriptionDeliveryRow, SubscriptionsRepository, SubscriptionWithRefs } from './repository.js';
import { manualDedupeKey, type subscriptionJobDefinitions } from './jobs.js';
import { EXHAUSTED_MESSAGE, nextDeliveryDate, ruleKey, scheduleOf, summaryOf } from './rules.js';
import { checkTimeZone } from '../../lib/time-zones.js';

export interface SubscriptionsServiceDeps {
  subscriptions: SubscriptionsRepository;
  guard: Pick<UrlGuard, 'check'>;
  /** Queues the invite of new email recipients (§4.8). */
  queue: JobEnqueuer<typeof subscriptionJobDefinitions>;
  /** A Slack subscription names one of the team's Slack integrations. */
  integrations: Pick<IntegrationsService, 'kindOf'>;
  secretKey: () => Promise<string>;
}

const DELIVERY_PAGE = 50;

/** DRF's cursor is opaque: here the base64 of the last row's created_at and id. */
const encodeDeliveryCursor = (row: SubscriptionDeliveryRow) => Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');
function decodeDeliveryCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && UUID.test(id) && !Number.isNaN(epochMs(createdAt))) return { createdAt, id };
  } catch {
    // an invalid cursor, as below
  }
  throw new NotFoundError('Invalid cursor');
}

export function toDelivery(row: SubscriptionDeliveryRow): SubscriptionDelivery {
  return {
    id: row.id,
    subscription: row.subscriptionId,
    temporal_workflow_id: row.jobId === null ? '' : `burrow-job-${row.jobId}`,
    idempotency_key: row.idempotencyKey,
    trigger_type: row.triggerType as SubscriptionDelivery['trigger_type'],
    scheduled_at: isoZ(row.scheduledAt),
    target_type: row.targetType,
    target_value: row.targetValue,
    exported_asset_ids: row.exportedAssetIds,
    content_snapshot: row.contentSnapshot,
    recipient_results: row.recipientResults,
    status: row.status as SubscriptionDelivery['status'],
    error: row.error ?? null,
    created_at: isoZ(row.createdAt),
    last_updated_at: isoZ(row.lastUpdatedAt),
    finished_at: isoZ(row.finishedAt),
    change_summary: null,
  };
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** PostHog's str_to_bool. */
const strToBool = (value: string) => ['y', 'yes', 't', 'true', 'on', '1'].includes(value.toLowerCase());
const PROMPT_REFUSED = 'AI prompt subscriptions are not available: Burrow has no AI reports.';
const MISSING_RESOURCE = 'A subscription must have an insight, a dashboard, a prompt, a saved heatmap or a recordings query.';

/** The resource fields, in the order PostHog derives resource_type; the message when another one is set too. */
const RESOURCES = [
  ['insight', 'Insight subscriptions cannot also set dashboard, prompt, saved_heatmap or recordings_query.'],
  ['dashboard', 'Dashboard subscriptions cannot also set insight, prompt, saved_heatmap or recordings_query.'],
  ['prompt', 'Prompt subscriptions cannot also set insight, dashboard, saved_heatmap or recordings_query.'],
  ['saved_heatmap', 'Saved heatmap subscriptions cannot also set insight, dashboard, prompt or recordings_query.'],
  ['recordings_query', 'Recordings subscriptions cannot also set insight, dashboard, prompt or saved_heatmap.'],
] as const;

function resourceTypeOf(row: SubscriptionWithRefs): ResourceType | null {
  if (row.insightId !== null) return 'insight';
  if (row.dashboardId !== null) return 'dashboard';
  if (row.prompt) return 'ai_prompt';
  if (row.savedHeatmapId !== null) return 'heatmap';
  return row.recordingsQuery !== null ? 'recordings' : null;
}

export function toSubscription(row: SubscriptionWithRefs): Subscription {
  return {
    id: row.id,
    dashboard: row.dashboardId,
    insight: row.insightId,
    target_type: row.targetType as Subscription['target_type'],
    target_value: row.targetValue,
    frequency: row.frequency as Frequency,
    interval: row.interval,
    byweekday: row.byweekday as Weekday[] | null,
    bysetpos: row.bysetpos,
    count: row.count,
    start_date: isoZ(row.startDate),
    until_date: isoZ(row.untilDate),
    created_at: isoZ(row.createdAt),
    created_by: row.createdBy && toUserBasic(row.createdBy),
    deleted: row.deleted,
    title: row.title,
    next_delivery_date: isoZ(row.nextDeliveryDate),
    invite_message: null,
    summary: summaryOf(row),
    resource_type: resourceTypeOf(row),
    resource_name: row.heatmap ? row.heatmap.name || row.heatmap.url : null,
    insight_short_id: null,
    dashboard_export_insights: row.dashboardExportInsights,
    enabled: row.enabled,
    integration_id: row.integrationId,
    summary_enabled: row.summaryEnabled,
    summary_prompt_guide: row.summaryPromptGuide,
    prompt: row.prompt,
    saved_heatmap: row.heatmap?.shortId ?? null,
    recordings_query: row.recordingsQuery,
    width: row.width,
    timezone: row.timezone,
  };
}

/** PostHog's SubscriptionViewSet and SubscriptionSerializer rules, and the delivery history. */
export function createSubscriptionsService(deps: SubscriptionsServiceDeps) {
  const { subscriptions } = deps;

  async function find(team: TeamAccess, rawId: string, filters: { insight?: number; dashboard?: number } = {}): Promise<SubscriptionWithRefs> {
    const id = serialId(rawId);
    const row = id === null ? undefined : await subscriptions.find(team.team.id, id);
    if (!row || (filters.insight !== undefined && row.insightId !== filters.insight) || (filters.dashboard !== undefined && row.dashboardId !== filters.dashboard)) {
      throw new NotFoundError();
    }
    return row;
  }

  /**
   * The rules of §4.7 that are not a single field's, on the written fields (`input`) over the stored ones. Returns the
   * columns the input sets.
   */
  async function validate(team: TeamAccess, input: PatchSubscriptionInput, stored: SubscriptionWithRefs | null): Promise<Partial<NewSubscription>> {
    const values: Partial<NewSubscription> = {};

    // The one resource a subscription reports on (insight and dashboard ids were refused by the body's schema).
    const present = (field: (typeof RESOURCES)[number][0]): boolean => {
      if (field in input) return input[field] !== null && input[field] !== undefined && input[field] !== '';
      if (!stored) return false;
      if (field === 'saved_heatmap') return stored.savedHeatmapId !== null;
      if (field === 'recordings_query') return stored.recordingsQuery !== null;
      return Boolean(field === 'prompt' ? stored.prompt : field === 'insight' ? stored.insightId : stored.dashboardId);
    };
    const set = RESOURCES.filter(([field]) => present(field));
    if (set.length === 0) throw new ValidationError(MISSING_RESOURCE);
    if (set.length > 1) throw new ValidationError(set[0]![1], set[0]![0]);
    if (input.prompt) throw new ValidationError(PROMPT_REFUSED, 'prompt');
    if ('prompt' in input) values.prompt = input.prompt || null;

    if (input.saved_heatmap !== undefined) {
      const heatmap = input.saved_heatmap ? await subscriptions.findHeatmap(team.team.id, input.saved_heatmap) : undefined;
      if (input.saved_heatmap && !heatmap) throw new ValidationError(`Object with short_id=${input.saved_heatmap} does not exist.`, 'saved_heatmap', 'does_not_exist');
      values.savedHeatmapId = heatmap?.id ?? null;
    }
    if (input.recordings_query !== undefined) {
      if (input.recordings_query !== null) checkRecordingsQuery(team, input.recordings_query);
      values.recordingsQuery = input.recordings_query;
    }
    const heatmapReport = present('saved_heatmap');
    if (input.width !== undefined && input.width !== null && !heatmapReport) throw new ValidationError('Only saved heatmap subscriptions have a width.', 'width');
    if (input.width !== undefined || values.savedHeatmapId !== undefined) values.width = heatmapReport ? (input.width ?? stored?.width ?? DEFAULT_HEATMAP_WIDTH) : null;

    checkInsightSelection(input.dashboard_export_insights);
    if (input.dashboard_export_insights !== undefined) values.dashboardExportInsights = [];

    // Delivery targets.
    const targetType = input.target_type ?? stored?.targetType;
    if (input.integration_id !== undefined && input.integration_id !== null) {
      const kind = await deps.integrations.kindOf(team.team.id, input.integration_id);
      if (kind === null) throw new ValidationError('This integration does not exist or does not belong to your team.', 'integration_id');
      if (targetType === 'slack' && kind !== 'slack') throw new ValidationError('Slack subscriptions require a Slack integration.', 'integration_id');
    }
    if (input.integration_id !== undefined) values.integrationId = input.integration_id;
    const integrationId = input.integration_id !== undefined ? input.integration_id : (stored?.integrationId ?? null);
    const targetWritten = !stored || input.target_type !== undefined || input.target_value !== undefined || input.integration_id !== undefined;
    if (targetType === 'slack' && integrationId === null && targetWritten) {
      throw new ValidationError('A Slack integration is required for Slack subscriptions.', 'integration_id');
    }
    const targetValue = input.target_value ?? stored?.targetValue;
    if (targetType === 'webhook' && targetValue !== undefined && (input.target_value !== undefined || input.target_type !== undefined)) {
      const verdict = await deps.guard.check(targetValue);
      if (!verdict.allowed) throw new ValidationError(`Invalid webhook URL: ${verdict.reason}`, 'target_value');
    }

    // AI summaries: Burrow has no AI.
    if (input.summary_prompt_guide !== undefined) {
      if (input.summary_prompt_guide.length > 500) throw new ValidationError('AI summary context must be 500 characters or fewer.', 'summary_prompt_guide');
      if (input.summary_prompt_guide !== '') throw new PermissionDeniedError('Setting AI summary context is not enabled for this organization.');
    }
    if (input.summary_enabled) throw new ValidationError('AI summaries are not available: Burrow has no AI.', 'summary_enabled');

    checkTimeZone(input.timezone);
    return values;
  }

  /** A RecordingsQuery is checked as the recordings list checks its parameters (each one JSON-encoded there). */
  function checkRecordingsQuery(team: TeamAccess, value: Record<string, unknown>): void {
    const raw = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? item : JSON.stringify(item)]));
    try {
      parseRecordingsQuery(raw, { now: new Date(), timeZone: team.team.timezone });
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(error.detail, error.attr ? `recordings_query__${error.attr}` : 'recordings_query', error.code);
      throw error;
    }
  }

  /** dashboard_export_insights: only a dashboard subscription selects insights, and Burrow has no dashboards. */
  function checkInsightSelection(value: unknown): void {
    if (value === undefined || value === null) return;
    if (!Array.isArray(value)) throw new ValidationError('Expected a list of insight IDs.', 'dashboard_export_insights');
    if (!value.every((item) => Number.isInteger(item))) throw new ValidationError('All items must be integers.', 'dashboard_export_insights');
    if (value.length > 0) throw new ValidationError('Cannot set insights selection without a dashboard.', 'dashboard_export_insights');
  }

  /** Re-enabling is refused while the target is still broken (§4.7): no Slack integration, a refused webhook URL. */
  async function checkTargetWorks(sub: Pick<SubscriptionWithRefs, 'targetType' | 'targetValue' | 'integrationId'>): Promise<void> {
    if (sub.targetType === 'slack' && sub.integrationId === null) {
      throw new ValidationError('Cannot re-enable Slack subscription: no integration configured. Reconnect Slack first.', 'enabled');
    }
    if (sub.targetType === 'webhook') {
      const verdict = await deps.guard.check(sub.targetValue);
      if (!verdict.allowed) throw new ValidationError(`Cannot re-enable webhook subscription: Invalid webhook URL: ${verdict.reason}`, 'enabled');
    }
  }

  const scheduleColumns = (input: PatchSubscriptionInput): Partial<NewSubscription> => ({
    ...(input.frequency !== undefined && { frequency: input.frequency }),
    ...(input.interval !== undefined && { interval: input.interval }),
    ...(input.byweekday !== undefined && { byweekday: input.byweekday }),
    ...(input.bysetpos !== undefined && { bysetpos: input.bysetpos }),
    ...(input.count !== undefined && { count: input.count }),
    ...(input.start_date !== undefined && { startDate: input.start_date }),
    ...(input.until_date !== undefined && { untilDate: input.until_date }),
    ...(input.timezone !== undefined && { timezone: input.timezone }),
  });

  const otherColumns = (input: PatchSubscriptionInput): Partial<NewSubscription> => ({
    ...(input.target_type !== undefined && { targetType: input.target_type }),
    ...(input.target_value !== undefined && { targetValue: input.target_value }),
    ...(input.deleted !== undefined && { deleted: input.deleted }),
    ...(input.title !== undefined && { title: input.title }),
    ...(input.enabled !== undefined && { enabled: input.enabled }),
    ...(input.summary_enabled !== undefined && { summaryEnabled: input.summary_enabled }),
    ...(input.summary_prompt_guide !== undefined && { summaryPromptGuide: input.summary_prompt_guide }),
  });

  /**
   * §4.8: an email subscription whose recipients changed (or was created) sends the current report to the addresses
   * that are new, with the invite message, and a Slack one to its new channel; a disabled or deleted one sends nothing.
   */
  async function invite(row: SubscriptionWithRefs, previousValue: string, message: string, inviter: string): Promise<void> {
    if (row.targetType === 'webhook' || !row.enabled || row.deleted || row.targetValue === previousValue) return;
    await deps.queue.enqueue(
      'subscription.deliver',
      { subscriptionId: row.id, invite: { key: newUuid(), previousValue, message, inviter: inviter || null } },
      { maxAttempts: 4 },
    );
  }

  return {
    async list(team: TeamAccess, query: SubscriptionListInput, page: PageParams): Promise<{ results: Subscription[]; count: number }> {
      if (query.created_by !== undefined && !UUID.test(query.created_by)) throw new ValidationError('Not a valid UUID.', 'created_by', 'invalid');
      if (query.target_type && !(TARGET_TYPES as readonly string[]).includes(query.target_type)) {
        throw new ValidationError(`Must be one of: ${TARGET_TYPES.join(', ')}.`, 'target_type');
      }
      if (query.resource_type && !(RESOURCE_TYPES as readonly string[]).includes(query.resource_type)) {
        throw new ValidationError(`Select a valid choice. ${query.resource_type} is not one of the available choices.`, 'resource_type', 'invalid_choice');
      }
      const { rows, count } = await subscriptions.list(
        team.team.id,
        {
          deleted: query.deleted !== undefined && strToBool(query.deleted),
          insightId: query.insight,
          dashboardId: query.dashboard,
          createdByUuid: query.created_by,
          resourceType: query.resource_type || undefined,
          targetType: query.target_type || undefined,
          search: query.search || undefined,
          ordering: query.ordering?.split(',')[0]?.trim() || '-created_at',
        },
        page,
      );
      return { results: rows.map(toSubscription), count };
    },

    async create(team: TeamAccess, actor: Actor, input: CreateSubscriptionInput): Promise<Subscription> {
      const values = { ...(await validate(team, input, null)), ...scheduleColumns(input), ...otherColumns(input) } as NewSubscription;
      const next = nextDeliveryDate(scheduleOf(values));
      if (next === null) throw new ValidationError(EXHAUSTED_MESSAGE, 'start_date');
      const row = await subscriptions.insert({ ...values, teamId: team.team.id, createdById: actor.user.id, nextDeliveryDate: fromDate(next) });
      const created = (await subscriptions.find(team.team.id, row.id))!;
      await invite(created, '', input.invite_message ?? '', actor.user.firstName);
      return toSubscription(created);
    },

    async retrieve(team: TeamAccess, id: string, filters: { insight?: number; dashboard?: number }): Promise<Subscription> {
      return toSubscription(await find(team, id, filters));
    },

    /** PUT and PATCH: the fields given change; the next delivery moves only when the rule changed, or on re-enable. */
    async update(team: TeamAccess, actor: Actor, id: string, input: PatchSubscriptionInput): Promise<Subscription> {
      const stored = await find(team, id);
      const values = { ...(await validate(team, input, stored)), ...scheduleColumns(input), ...otherColumns(input) };
      const merged = { ...stored, ...values };
      const enabled = merged.enabled;
      const reenabled = enabled && !stored.enabled;
      const ruleChanged = ruleKey(scheduleOf(merged)) !== ruleKey(scheduleOf(stored));
      if (reenabled) await checkTargetWorks(merged);
      if (reenabled || ruleChanged) {
        const next = nextDeliveryDate(scheduleOf(merged));
        if (next === null && reenabled) throw new ValidationError(`${EXHAUSTED_MESSAGE.replace(/\.$/, '')} before re-enabling.`, 'enabled');
        if (next === null && enabled) throw new ValidationError(EXHAUSTED_MESSAGE);
        values.nextDeliveryDate = next && fromDate(next);
      }
      await subscriptions.update(team.team.id, stored.id, values);
      const updated = (await subscriptions.find(team.team.id, stored.id))!;
      if (input.target_value !== undefined || input.target_type !== undefined || input.integration_id !== undefined) {
        await invite(updated, stored.targetType === updated.targetType ? stored.targetValue : '', input.invite_message ?? '', actor.user.firstName);
      }
      return toSubscription(updated);
    },

    /**
     * deliveries/: the subscription's delivery history, newest first, a DRF cursor page of 50; the subscription must be
     * the team's (404 otherwise) and ?status= one of PostHog's. `nextCursor` opens the next page.
     */
    async deliveries(team: TeamAccess, subscriptionId: string, query: { status?: string; cursor?: string }): Promise<{ results: SubscriptionDelivery[]; nextCursor: string | null }> {
      const { status } = query;
      if (status && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
        throw new ValidationError(`Select a valid choice. ${status} is not one of the available choices.`, 'status', 'invalid_choice');
      }
      const sub = await find(team, subscriptionId);
      const before = query.cursor ? decodeDeliveryCursor(query.cursor) : undefined;
      const rows = await subscriptions.deliveries(team.team.id, sub.id, { status: status || undefined, before }, DELIVERY_PAGE + 1);
      const page = rows.slice(0, DELIVERY_PAGE);
      const last = page.at(-1);
      return { results: page.map(toDelivery), nextCursor: rows.length > DELIVERY_PAGE && last ? encodeDeliveryCursor(last) : null };
    },

    /** deliveries/:id/: one delivery of the subscription. */
    async delivery(team: TeamAccess, subscriptionId: string, deliveryId: string): Promise<SubscriptionDelivery> {
      const sub = await find(team, subscriptionId);
      const id = UUID.test(deliveryId) ? uuidLookup(deliveryId) : null;
      const row = id === null ? undefined : await subscriptions.findDelivery(team.team.id, sub.id, id);
      if (!row) throw new NotFoundError();
      return toDelivery(row);
    },

    /**
     * test-delivery/: the report now, to every recipient, as a `manual` delivery (the schedule does not move). 404 for
     * a deleted subscription, 409 for a disabled one or while a test delivery is queued or running.
     */
    async testDelivery(team: TeamAccess, id: string): Promise<void> {
      const row = await find(team, id);
      if (row.deleted) throw new NotFoundError();
      if (!row.enabled) throw new ConflictError('Subscription is disabled. Re-enable it before sending a test delivery.');
      const busy = () => new ConflictError('Delivery already in progress');
      if (await subscriptions.hasManualDeliveryStarting(row.id)) throw busy();
      const { deduped } = await deps.queue.enqueue(
        'subscription.deliver',
        { subscriptionId: row.id, manual: { key: newUuid() } },
        { dedupeKey: manualDedupeKey(row.id), maxAttempts: 4 },
      );
      if (deduped) throw busy();
    },

    /**
     * /api/unsubscribe?token=: removes the token's address from its subscription's recipients; with none left the
     * subscription is soft-deleted. False for a missing, expired or foreign token.
     */
    async unsubscribe(token: string | undefined): Promise<{ success: boolean }> {
      if (!token) return { success: false };
      const payload = decodeJwt(await deps.secretKey(), token, JwtAudience.unsubscribe);
      if (!payload || typeof payload.id !== 'number' || typeof payload.email !== 'string') return { success: false };
      const row = await subscriptions.findAnyTeam(payload.id);
      if (!row) return { success: false };
      const remaining = row.targetValue.split(',').filter((address) => address !== payload.email);
      await subscriptions.update(row.teamId, row.id, { targetValue: remaining.join(','), ...(remaining.length === 0 && { deleted: true }) });
      return { success: true };
    },

    /** summary_quota/: AI summaries on; Burrow has no plans, so no limit. */
    async summaryQuota(team: TeamAccess): Promise<{ active_count: number; limit: number | null; at_limit: boolean }> {
      return { active_count: await subscriptions.countSummaryEnabled(team.team.id), limit: null, at_limit: false };
    },
  };
}

export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;
