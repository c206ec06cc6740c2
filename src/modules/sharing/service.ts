import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, PlainBodyError, ValidationError } from '../../lib/errors.js';
import type { TeamRow } from '../../db/schema/index.js';
import { isoZ } from '../../lib/time.js';
import { type Actor, hashPassword } from '../identity/index.js';
import { ACCESS_TOKEN_BYTES, GENERATED_PASSWORD_BYTES, SETTINGS_SHAPE, type SharingConfiguration } from './contract.js';
import type { PlayerSource } from './player-page.js';
import type { ExportedRecording } from './public-pages.js';
import type { SharingRepository } from './repository.js';

type TeamRef = { team: { id: number } };

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
}

export function createSharingService({ sharing, gracePeriodMs, recordingOf }: SharingServiceDeps) {
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

  return {
    /**
     * The recording a share link's token opens by itself: an enabled link, current or in its grace period, without a
     * password (a password-protected link needs the unlock step).
     */
    async sharedRecordingOf(token: string): Promise<{ team: TeamRow; recordingId: string } | null> {
      if (!ACCESS_TOKEN.test(token)) return null;
      const live = await sharing.findLive(token);
      return live && !live.passwordRequired ? { team: live.team, recordingId: live.recordingId } : null;
    },

    /**
     * The data of a share link's public page (PostHog's exported_data): null for a link that does not open,
     * 'password' for one that needs its password first.
     */
    async exportedRecording(token: string, type: 'scene' | 'embed'): Promise<ExportedRecording | 'password' | null> {
      if (!ACCESS_TOKEN.test(token)) return null;
      const live = await sharing.findLive(token);
      if (!live) return null;
      if (live.passwordRequired) return 'password';
      const recording = await recordingOf(live.team, live.recordingId);
      if (!recording) return null;
      return { type, accessToken: token, recording, ...live.settings };
    },

    /** Where a share link's player reads its snapshots: the API, with the link's token. */
    playerSource(shared: ExportedRecording): PlayerSource {
      const query = new URLSearchParams({ sharing_access_token: shared.accessToken });
      return { snapshotsUrl: `/api/projects/@current/session_recordings/${encodeURIComponent(shared.recording.id)}/snapshots/?${query}`, credentials: 'omit' };
    },

    /** The recording's share; until one is saved, an unsaved default whose token is new on every call (as PostHog's). */
    async get(access: TeamRef, recordingId: string): Promise<SharingConfiguration> {
      return present(await sharing.findCurrent(access.team.id, recordingId));
    },

    async update(access: TeamRef, recordingId: string, body: { enabled?: boolean; settings?: unknown; password_required?: boolean }): Promise<SharingConfiguration> {
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
