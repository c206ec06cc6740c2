import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { organizations, type SharingConfigurationRow, sharePasswords, sharingConfigurations, type TeamRow, teams, users } from '../../db/schema/index.js';

export interface PasswordRow {
  id: number;
  createdAt: string;
  note: string | null;
  createdByEmail: string | null;
  isActive: boolean;
}

export interface LiveShare {
  id: number;
  team: TeamRow;
  recordingId: string;
  accessToken: string;
  passwordRequired: boolean;
  settings: Record<string, unknown> | null;
}

type Changes = Partial<Pick<SharingConfigurationRow, 'enabled' | 'settings' | 'passwordRequired'>>;

export function createSharingRepository(db: Db) {
  const current = (teamId: number, recordingId: string) =>
    and(eq(sharingConfigurations.teamId, teamId), eq(sharingConfigurations.recordingId, recordingId), isNull(sharingConfigurations.expiresAt));

  async function findCurrent(teamId: number, recordingId: string, tx: Db = db): Promise<SharingConfigurationRow | null> {
    const [row] = await tx.select().from(sharingConfigurations).where(current(teamId, recordingId)).limit(1);
    return row ?? null;
  }

  /** Serializes the changes of one recording's share (two first PATCHes must not make two current shares). */
  const lockRecording = (tx: Db, teamId: number, recordingId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`sharing:${teamId}:${recordingId}`}))`);

  return {
    /** The recording's current share (not rotated out), or null. */
    findCurrent,

    /**
     * An enabled share whose link still works (current, or rotated out within its grace period) in an organization
     * that allows public sharing; by its access token, or by one of its active passwords (an unlocked link's JWT).
     */
    async findLive(by: { accessToken: string } | { passwordId: number; teamId: number }): Promise<LiveShare | null> {
      const [row] = await db
        .select({
          id: sharingConfigurations.id,
          team: teams,
          recordingId: sharingConfigurations.recordingId,
          accessToken: sharingConfigurations.accessToken,
          passwordRequired: sharingConfigurations.passwordRequired,
          settings: sharingConfigurations.settings,
        })
        .from(sharingConfigurations)
        .innerJoin(teams, eq(teams.id, sharingConfigurations.teamId))
        .innerJoin(organizations, eq(organizations.id, teams.organizationId))
        .where(
          and(
            'accessToken' in by
              ? eq(sharingConfigurations.accessToken, by.accessToken)
              : and(
                  eq(sharingConfigurations.teamId, by.teamId),
                  eq(sharingConfigurations.passwordRequired, true),
                  sql`exists (select 1 from share_passwords p where p.id = ${by.passwordId} and p.sharing_configuration_id = ${sharingConfigurations.id} and p.is_active)`,
                ),
            eq(sharingConfigurations.enabled, true),
            eq(organizations.allowPubliclySharedResources, true),
            or(isNull(sharingConfigurations.expiresAt), gt(sharingConfigurations.expiresAt, sql`now()`)),
          ),
        );
      return row ?? null;
    },

    /** The active passwords' ids and hashes, to check an unlock attempt against. */
    async passwordHashes(configurationId: number): Promise<{ id: number; passwordHash: string }[]> {
      return db
        .select({ id: sharePasswords.id, passwordHash: sharePasswords.passwordHash })
        .from(sharePasswords)
        .where(and(eq(sharePasswords.sharingConfigurationId, configurationId), eq(sharePasswords.isActive, true)))
        .orderBy(asc(sharePasswords.id));
    },

    async activePasswords(configurationId: number): Promise<PasswordRow[]> {
      return db
        .select({
          id: sharePasswords.id,
          createdAt: sharePasswords.createdAt,
          note: sharePasswords.note,
          createdByEmail: users.email,
          isActive: sharePasswords.isActive,
        })
        .from(sharePasswords)
        .leftJoin(users, eq(users.id, sharePasswords.createdById))
        .where(and(eq(sharePasswords.sharingConfigurationId, configurationId), eq(sharePasswords.isActive, true)))
        .orderBy(asc(sharePasswords.id));
    },

    /** Changes the recording's current share, made with `accessToken` when there is none; one transaction, locked. */
    async save(teamId: number, recordingId: string, accessToken: string, changes: Changes): Promise<SharingConfigurationRow> {
      return db.transaction(async (tx) => {
        await lockRecording(tx, teamId, recordingId);
        const existing = await findCurrent(teamId, recordingId, tx);
        if (existing) {
          if (Object.keys(changes).length === 0) return existing;
          const [updated] = await tx.update(sharingConfigurations).set(changes).where(eq(sharingConfigurations.id, existing.id)).returning();
          return updated!;
        }
        const [created] = await tx.insert(sharingConfigurations).values({ teamId, recordingId, accessToken, ...changes }).returning();
        return created!;
      });
    },

    /**
     * A new current share with `accessToken`, copying the old one's settings and active passwords; the old one expires
     * at `oldExpiresAt` (the grace period its link keeps working for).
     */
    async rotate(teamId: number, recordingId: string, accessToken: string, oldExpiresAt: Date): Promise<SharingConfigurationRow> {
      return db.transaction(async (tx) => {
        await lockRecording(tx, teamId, recordingId);
        const old = await findCurrent(teamId, recordingId, tx);
        if (old) await tx.update(sharingConfigurations).set({ expiresAt: oldExpiresAt.toISOString() }).where(eq(sharingConfigurations.id, old.id));
        const [created] = await tx
          .insert(sharingConfigurations)
          .values({ teamId, recordingId, accessToken, enabled: old?.enabled ?? false, settings: old?.settings ?? null, passwordRequired: old?.passwordRequired ?? false })
          .returning();
        if (old) {
          await tx.execute(sql`insert into share_passwords (sharing_configuration_id, created_at, note, created_by_id, is_active, password_hash)
            select ${created!.id}, created_at, note, created_by_id, true, password_hash from share_passwords
             where sharing_configuration_id = ${old.id} and is_active`);
        }
        return created!;
      });
    },

    async addPassword(configurationId: number, passwordHash: string, note: string | null, createdById: number): Promise<{ id: number; createdAt: string }> {
      const [row] = await db
        .insert(sharePasswords)
        .values({ sharingConfigurationId: configurationId, passwordHash, note, createdById })
        .returning({ id: sharePasswords.id, createdAt: sharePasswords.createdAt });
      return row!;
    },

    /** Deactivates an active password of the share; answers whether there was one. */
    async deactivatePassword(configurationId: number, passwordId: number): Promise<boolean> {
      const rows = await db
        .update(sharePasswords)
        .set({ isActive: false })
        .where(and(eq(sharePasswords.id, passwordId), eq(sharePasswords.sharingConfigurationId, configurationId), eq(sharePasswords.isActive, true)))
        .returning({ id: sharePasswords.id });
      return rows.length > 0;
    },
  };
}

export type SharingRepository = ReturnType<typeof createSharingRepository>;
