import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from 'pino';
import { NotFoundError, PermissionDeniedError, PlainBodyError, ValidationError } from '../../lib/errors.js';
import { decodeJwt, encodeJwt, JwtAudience } from '../../lib/jwt.js';
import type { TeamRow } from '../../db/schema/index.js';
import { isoZ } from '../../lib/time.js';
import { type Actor, hashPassword, projectSettings, verifyPassword } from '../identity/index.js';
import { ACCESS_TOKEN_BYTES, GENERATED_PASSWORD_BYTES, SETTINGS_SHAPE, type SharingConfiguration } from './contract.js';
import type { PlayerSource } from './player-page.js';
import type { ExportedRecording } from './public-pages.js';
import type { LiveShare, SharingRepository } from './repository.js';

type TeamRef = { team: { id: number } };
type TeamInOrganization = TeamRef & { organization: { allowPubliclySharedResources: boolean } };

/** How long an unlocked password share stays open, in its JWT and its cookie (PostHog's 24 hours). */
export const SHARE_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** What opens a share link's recording on the API: the link's access token, or an unlocked password share's JWT. */
export type ShareCredential = { accessToken: string } | { jwt: string };

/** A share link's page: PostHog's exported_data and where its player reads the snapshots. */
export interface SharePage {
  data: ExportedRecording;
  source: PlayerSource;
  /** The team lets the player load the recorded page's images, fonts and styles from their hosts. */
  remoteAssets: boolean;
}

const remoteAssetsOf = (team: TeamRow) => projectSettings(team).session_recording_remote_assets_opt_in;

/** The flags PostHog copies into exported_data when they are on, plus the theme (Burrow's player applies it). */
const PAGE_FLAGS = ['whitelabel', 'noHeader', 'showInspector', 'legend', 'detailed', 'hideExtraDetails'] as const;
function pageSettings(settings: Record<string, unknown> | null): Record<string, unknown> {
  const flags = Object.fromEntries(PAGE_FLAGS.filter((flag) => settings?.[flag] === true).map((flag) => [flag, true]));
  return settings?.theme ? { ...flags, theme: settings.theme } : flags;
}

const snapshotsPath = (teamId: number, recordingId: string) => `/api/projects/${teamId}/session_recordings/${encodeURIComponent(recordingId)}/snapshots/`;

/** PostHog answers this one outside its exception handler. */
export class PasswordsNotEnabledError extends PlainBodyError {
  constructor() {
    super('validation', { error: 'Password protection must be enabled before creating passwords' });
  }
}

const newAccessToken = () => randomBytes(ACCESS_TOKEN_BYTES).toString('base64url');
/** What an access token can look like; anything else is not looked up. */
const ACCESS_TOKEN = /^[A-Za-z0-9_-]{1,400}$/;

const SETTINGS = z.object(Object.fromEntries(Object.entries(SETTINGS_SHAPE).map(([key, type]) => [key, type.nullish()])));

/** The allowed settings of the body's, nulls left out; unknown keys are dropped and a wrong type is refused. */
function validSettings(value: unknown): Record<string, unknown> | null {
  if (value === null) return null;
  const parsed = SETTINGS.safeParse(value);
  if (!parsed.success || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('Invalid settings format', 'settings');
  return Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== null && v !== undefined));
}

export interface SharingServiceDeps {
  sharing: SharingRepository;
  gracePeriodMs: number;
  /** What a share link shows of its recording, or null when it cannot be read (deleted, expired). */
  recordingOf: (team: TeamRow, sessionId: string) => Promise<ExportedRecording['recording'] | null>;
  /** The instance's secret key, which signs unlocked shares' JWTs. */
  signingKey: () => Promise<string>;
  log: Logger;
}

export function createSharingService({ sharing, gracePeriodMs, recordingOf, signingKey, log }: SharingServiceDeps) {
  async function present(row: Awaited<ReturnType<SharingRepository['findCurrent']>>): Promise<SharingConfiguration> {
    if (!row) return { created_at: null, enabled: false, access_token: newAccessToken(), settings: null, password_required: false, share_passwords: [] };
    const passwords = await sharing.activePasswords(row.id);
    return {
      created_at: isoZ(row.createdAt),
      enabled: row.enabled,
      access_token: row.accessToken,
      settings: row.settings ?? null,
      password_required: row.passwordRequired,
      share_passwords: passwords.map((p) => ({ id: p.id, created_at: isoZ(p.createdAt), note: p.note, created_by_email: p.createdByEmail, is_active: p.isActive })),
    };
  }

  const liveByToken = (token: string) => (ACCESS_TOKEN.test(token) ? sharing.findLive({ accessToken: token }) : Promise.resolve(null));

  /** The share a JWT from an unlock opens: its password still active, its link still live and still the one it was made for. */
  async function unlockedBy(jwt: string): Promise<LiveShare | null> {
    const payload = decodeJwt(await signingKey(), jwt, JwtAudience.sharingPasswordProtected);
    const { share_password_id: passwordId, team_id: teamId, access_token: accessToken } = payload ?? {};
    if (typeof passwordId !== 'number' || typeof teamId !== 'number' || typeof accessToken !== 'string') return null;
    const live = await sharing.findLive({ passwordId, teamId });
    return live?.accessToken === accessToken ? live : null;
  }

  return {
    /**
     * The recording a credential opens on the API (PostHog's SharingAccessTokenAuthentication and
     * SharingPasswordProtectedAuthentication): a live link's access token when it needs no password, or the JWT of an
     * unlocked password share.
     */
    async sharedRecordingOf(credential: ShareCredential): Promise<{ team: TeamRow; recordingId: string } | null> {
      const live = 'jwt' in credential ? await unlockedBy(credential.jwt) : await liveByToken(credential.accessToken);
      if (!live || ('accessToken' in credential && live.passwordRequired)) return null;
      return { team: live.team, recordingId: live.recordingId };
    },

    /**
     * A share link's page (session_recordings.md §10.4): null for a link that does not open, 'password' for a
     * password-protected one without the JWT of its unlock.
     */
    async page(token: string, type: 'scene' | 'embed', jwt: string | undefined): Promise<SharePage | 'password' | null> {
      const live = await liveByToken(token);
      if (!live) return null;
      const unlocked = live.passwordRequired && jwt ? (await unlockedBy(jwt))?.id === live.id : false;
      if (live.passwordRequired && !unlocked) return 'password';
      const recording = await recordingOf(live.team, live.recordingId);
      if (!recording) return null;
      const shareToken = unlocked ? jwt : undefined;
      return {
        data: { type, accessToken: token, recording, ...pageSettings(live.settings), ...(shareToken && { shareToken }) },
        source: shareToken
          ? { snapshotsUrl: snapshotsPath(live.team.id, live.recordingId), authorization: `Bearer ${shareToken}`, credentials: 'omit' }
          : { snapshotsUrl: `${snapshotsPath(live.team.id, live.recordingId)}?${new URLSearchParams({ sharing_access_token: token })}`, credentials: 'omit' },
        remoteAssets: remoteAssetsOf(live.team),
      };
    },

    /**
     * Checks a password against a password-protected link's active passwords (§10.5): a JWT for 24 hours when one
     * matches, 'incorrect' when none does, null for a link that does not open or needs no password. Every attempt is logged.
     */
    async unlock(token: string, password: unknown, from: { ip: string }): Promise<{ shareToken: string } | 'incorrect' | null> {
      const live = await liveByToken(token);
      if (!live?.passwordRequired) return null;
      let matched: number | undefined;
      if (typeof password === 'string' && password !== '') {
        for (const candidate of await sharing.passwordHashes(live.id)) {
          if (await verifyPassword(password, candidate.passwordHash)) {
            matched = candidate.id;
            break;
          }
        }
      }
      const attempt = { team_id: live.team.id, recording_id: live.recordingId, share_id: live.id, ip: from.ip, success: matched !== undefined };
      if (matched === undefined) {
        log.warn(attempt, 'share password attempt failed');
        return 'incorrect';
      }
      log.info({ ...attempt, share_password_id: matched }, 'share password accepted');
      const payload = { share_password_id: matched, team_id: live.team.id, access_token: live.accessToken };
      return { shareToken: encodeJwt(await signingKey(), payload, SHARE_TOKEN_TTL_SECONDS, JwtAudience.sharingPasswordProtected) };
    },

    /** A signed-in user's player page of a recording of their team (/project/<id>/replay/<session_id>); null when it cannot be read. */
    async replayPage(team: TeamRow, recordingId: string): Promise<SharePage | null> {
      const recording = await recordingOf(team, recordingId);
      if (!recording) return null;
      return {
        data: { type: 'scene', recording },
        source: { snapshotsUrl: snapshotsPath(team.id, recordingId), credentials: 'same-origin' },
        remoteAssets: remoteAssetsOf(team),
      };
    },

    /** The recording's share; until one is saved, an unsaved default whose token is new on every call (as PostHog's). */
    async get(access: TeamRef, recordingId: string): Promise<SharingConfiguration> {
      return present(await sharing.findCurrent(access.team.id, recordingId));
    },

    async update(access: TeamInOrganization, recordingId: string, body: { enabled?: boolean; settings?: unknown; password_required?: boolean }): Promise<SharingConfiguration> {
      if (body.enabled && !access.organization.allowPubliclySharedResources) throw new PermissionDeniedError('Public sharing is disabled for this organization.');
      const changes = {
        ...(body.enabled !== undefined && { enabled: body.enabled }),
        ...(body.settings !== undefined && { settings: validSettings(body.settings) }),
        ...(body.password_required !== undefined && { passwordRequired: body.password_required }),
      };
      return present(await sharing.save(access.team.id, recordingId, newAccessToken(), changes));
    },

    /** A new token; the old link keeps working for the grace period. */
    async refresh(access: TeamRef, recordingId: string): Promise<SharingConfiguration> {
      return present(await sharing.rotate(access.team.id, recordingId, newAccessToken(), new Date(Date.now() + gracePeriodMs)));
    },

    async createPassword(access: TeamRef, actor: Actor, recordingId: string, body: { raw_password?: string; note?: string }) {
      const configuration = await sharing.findCurrent(access.team.id, recordingId);
      if (!configuration?.passwordRequired) throw new PasswordsNotEnabledError();
      const password = body.raw_password ?? randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
      const note = body.note ?? null;
      const created = await sharing.addPassword(configuration.id, await hashPassword(password), note, actor.user.id);
      return { id: created.id, password, note, created_at: isoZ(created.createdAt), created_by_email: actor.user.email };
    },

    async deletePassword(access: TeamRef, recordingId: string, passwordId: string): Promise<void> {
      const configuration = await sharing.findCurrent(access.team.id, recordingId);
      const id = /^\d{1,9}$/.test(passwordId) ? Number(passwordId) : null;
      if (!configuration || id === null || !(await sharing.deactivatePassword(configuration.id, id))) throw new NotFoundError('Password not found');
    },
  };
}

export type SharingService = ReturnType<typeof createSharingService>;
