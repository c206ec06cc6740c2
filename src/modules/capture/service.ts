import type { TeamRow } from '../../db/schema/index.js';
import { ThrottledError } from '../../lib/errors.js';
import { newUuid } from '../../lib/ids.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import { type IdentityModule, projectSettings } from '../identity/index.js';
import { ProjectTokenError, UNKNOWN_TOKEN } from './errors.js';
import { captureRequest, projectToken } from './events.js';
import { createEventRateLimiter } from './limits.js';
import { type CaptureInput, decodePayload } from './payload.js';
import type { RecordingsRepository } from './recordings-repository.js';
import { type ConfigRequester, flagsAnswer, remoteConfig } from './remote-config.js';
import type { CaptureRepository } from './repository.js';
import { snapshotBlocks } from './snapshots.js';

export interface CaptureServiceDeps {
  capture: CaptureRepository;
  recordings: RecordingsRepository;
  teams: Pick<IdentityModule['directory'], 'findTeamByApiToken'>;
  /** How long a token's team is remembered; project changes in this process clear it at once. */
  teamCacheMs: number;
  /** Called when a team's first event changed the team (its ingested_event flag). */
  onTeamChanged: () => void;
  /** CAPTURE_EVENTS_PER_SECOND and RECORDINGS_QUOTA_PER_MONTH; 0 turns each off. */
  limits: { eventsPerSecond: number; recordingsQuotaPerMonth: number };
}

/** How long a team's "over its recordings quota" answer is reused. */
const QUOTA_CHECK_MS = 60_000;

/** What one call of a capture endpoint needs besides the request: its size limit and whether it is /engage. */
export interface CaptureEndpoint {
  limitBytes: number;
  engage: boolean;
}

/** PostHog's session_recording_retention_period choices, as the retention_period_days stamped on a recording. */
const RETENTION_DAYS = { '30d': 30, '90d': 90, '1y': 365, '5y': 1825 } as const;

export function createCaptureService({ capture, recordings, teams, teamCacheMs, onTeamChanged, limits }: CaptureServiceDeps) {
  const teamsByToken = new TtlCache<string, TeamRow | null>(teamCacheMs);
  const overQuota = new TtlCache<number, true>(QUOTA_CHECK_MS);
  const rate = createEventRateLimiter(limits.eventsPerSecond);

  /**
   * PostHog's quota limiting: over RECORDINGS_QUOTA_PER_MONTH recordings this month, no more are taken. Only "over"
   * is remembered (for a minute): below the quota every request counts again, so the quota is never overshot by
   * a stale answer.
   */
  async function recordingsQuotaReached(teamId: number): Promise<boolean> {
    if (limits.recordingsQuotaPerMonth <= 0) return false;
    if (overQuota.get(teamId)) return true;
    const reached = (await recordings.countThisMonth(teamId)) >= limits.recordingsQuotaPerMonth;
    if (reached) overQuota.set(teamId, true);
    return reached;
  }

  function throttle(teamId: number, count: number): void {
    const wait = rate.take(teamId, count);
    if (wait > 0) throw new ThrottledError(wait);
  }

  async function teamOf(token: string): Promise<TeamRow | null> {
    return teamsByToken.getOrLoad(token, async () => (await teams.findTeamByApiToken(token)) ?? null);
  }

  async function configFor(team: TeamRow, requester: ConfigRequester): Promise<Record<string, unknown>> {
    return remoteConfig(team.apiToken, projectSettings(team), requester, await recordingsQuotaReached(team.id));
  }

  async function knownTeam(token: string): Promise<TeamRow> {
    const team = await teamOf(token);
    if (!team) throw new ProjectTokenError(UNKNOWN_TOKEN, 'invalid_api_key');
    return team;
  }

  return {
    /** Drops remembered teams (after a project changed or its token was reset). */
    forgetTeams: () => teamsByToken.clear(),

    /** Decodes, validates and stores the events of one request, all or none. Answers how many were new. */
    async captureEvents(input: CaptureInput, endpoint: CaptureEndpoint, now = new Date()): Promise<{ stored: number }> {
      const json = decodePayload(input, endpoint.limitBytes, { sanitize: true });
      const request = captureRequest(json, { engage: endpoint.engage, now, sentAtFallback: input.query._ });
      const team = await knownTeam(request.token);
      throttle(team.id, request.events.length);
      // PostHog's ingestion keeps heatmap points unless the project turned heatmaps off (heatmaps_opt_in false, not null).
      const keepHeatmaps = projectSettings(team).heatmaps_opt_in !== false;
      const { inserted, firstForTeam } = await capture.insertEvents(team.id, request.events, { alreadyIngested: team.ingestedEvent, keepHeatmaps });
      if (firstForTeam) onTeamChanged();
      return { stored: inserted };
    },

    /**
     * /s/: the `$snapshot` events of one request become blocks of their sessions, stored with the sessions' metadata,
     * all or none. Answers how many blocks were new; over the recordings quota, none are taken (`quotaLimited`).
     */
    async captureRecordings(
      input: CaptureInput & { userAgent: string | undefined },
      limitBytes: number,
      now = new Date(),
    ): Promise<{ stored: number; quotaLimited: boolean }> {
      const json = decodePayload(input, limitBytes, { sanitize: false });
      const { token, blocks } = snapshotBlocks(json, { now, sentAtFallback: input.query._, userAgent: input.userAgent });
      const team = await knownTeam(token);
      throttle(team.id, blocks.length);
      if (await recordingsQuotaReached(team.id)) return { stored: 0, quotaLimited: true };
      const settings = projectSettings(team);
      const keepConsoleMessages = settings.capture_console_log_opt_in === true;
      const retentionPeriodDays = RETENTION_DAYS[settings.session_recording_retention_period];
      return { stored: await recordings.insertBlocks(team.id, blocks, { keepConsoleMessages, retentionPeriodDays }), quotaLimited: false };
    },

    /**
     * Deletes recordings past their retention and, with `eventsRetentionDays` above 0, older events, heatmap points
     * and sessions, `batchSize` at a time so no statement holds locks for long. Answers what it deleted.
     */
    async purgeExpired(options: { eventsRetentionDays: number; batchSize: number }): Promise<{ recordings: number; events: number }> {
      let recordingsDeleted = 0;
      for (let n = -1; n !== 0; recordingsDeleted += n) n = await recordings.deleteExpiredRecordings(options.batchSize);
      let eventsDeleted = 0;
      if (options.eventsRetentionDays > 0) {
        const cutoff = new Date(Date.now() - options.eventsRetentionDays * 24 * 3600 * 1000);
        for (let n = -1; n !== 0; eventsDeleted += n) n = await capture.deleteBefore(cutoff, options.batchSize);
      }
      return { recordings: recordingsDeleted, events: eventsDeleted };
    },

    /** The team's remote config, or null when no project has this token. */
    async remoteConfig(token: string, requester: ConfigRequester): Promise<Record<string, unknown> | null> {
      const team = await teamOf(token);
      return team ? configFor(team, requester) : null;
    },

    /** /flags and /decide: the token comes in the (possibly compressed) body. */
    async flags(input: CaptureInput, limitBytes: number, requester: ConfigRequester): Promise<Record<string, unknown>> {
      const json = decodePayload(input, limitBytes, { sanitize: true });
      const body = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
      const token = projectToken({ token: body.token ?? body.api_key ?? body.$token ?? input.query.token, events: [] });
      const team = await knownTeam(token);
      return flagsAnswer(await configFor(team, requester), newUuid());
    },
  };
}

export type CaptureService = ReturnType<typeof createCaptureService>;
