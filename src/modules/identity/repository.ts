import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.js';
import type { MembershipLevelValue } from '../../db/enums.js';
import {
  type OrganizationRow,
  organizationMemberships,
  organizations,
  type ProjectRow,
  projects,
  type TeamRow,
  teams,
  type UserRow,
  users,
} from '../../db/schema/index.js';
import { isUuid } from '../../lib/ids.js';

export type NewUser = typeof users.$inferInsert;
export type OrganizationWithLevel = OrganizationRow & { membershipLevel: MembershipLevelValue | null };

/** A team together with what the requesting user may do in it. */
export interface TeamAccess {
  team: TeamRow;
  organization: OrganizationRow;
  /** The user's membership level in the team's organization, null when not a member. */
  membershipLevel: MembershipLevelValue | null;
}

export function createIdentityRepository(db: Db) {
  // Run for every request that misses the auth cache (see api-keys/repository.ts on why they are prepared).
  const teamAccessQuery = db
    .select({ team: teams, organization: organizations, level: organizationMemberships.level })
    .from(teams)
    .innerJoin(organizations, eq(organizations.id, teams.organizationId))
    .leftJoin(
      organizationMemberships,
      and(eq(organizationMemberships.organizationId, teams.organizationId), eq(organizationMemberships.userId, sql.placeholder('userId'))),
    )
    .where(eq(teams.id, sql.placeholder('teamId')))
    .prepare('team_access');
  const userByIdQuery = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare('user_by_id');

  return {
    async countUsers(tx: Db = db): Promise<number> {
      const [row] = await tx.select({ n: count() }).from(users);
      return row?.n ?? 0;
    },

    async findUserById(id: number, tx?: Db): Promise<UserRow | undefined> {
      const [row] = tx ? await tx.select().from(users).where(eq(users.id, id)) : await userByIdQuery.execute({ id });
      return row;
    },

    async findUserByUuid(uuid: string, tx: Db = db): Promise<UserRow | undefined> {
      if (!isUuid(uuid)) return undefined;
      const [row] = await tx.select().from(users).where(eq(users.uuid, uuid));
      return row;
    },

    async findUserByEmail(email: string, tx: Db = db): Promise<UserRow | undefined> {
      const [row] = await tx
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email})`);
      return row;
    },

    async insertUser(values: NewUser, tx: Db = db): Promise<UserRow> {
      const [row] = await tx.insert(users).values(values).returning();
      return row!;
    },

    async updateUser(id: number, patch: Partial<NewUser>, tx: Db = db): Promise<UserRow> {
      const [row] = await tx.update(users).set(patch).where(eq(users.id, id)).returning();
      return row!;
    },

    /** The new organization, or undefined when another one took its slug first. */
    async insertOrganization(values: typeof organizations.$inferInsert, tx: Db = db): Promise<OrganizationRow | undefined> {
      const [row] = await tx.insert(organizations).values(values).onConflictDoNothing({ target: organizations.slug }).returning();
      return row;
    },

    async slugExists(slug: string, tx: Db = db): Promise<boolean> {
      const [row] = await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slug));
      return row !== undefined;
    },

    async findOrganizationForUser(organizationId: string, userId: number, tx: Db = db): Promise<OrganizationWithLevel | undefined> {
      const [row] = await tx
        .select({ organization: organizations, level: organizationMemberships.level })
        .from(organizations)
        .innerJoin(
          organizationMemberships,
          and(eq(organizationMemberships.organizationId, organizations.id), eq(organizationMemberships.userId, userId)),
        )
        .where(eq(organizations.id, organizationId));
      return row && { ...row.organization, membershipLevel: row.level };
    },

    async listOrganizationsForUser(userId: number, tx: Db = db): Promise<OrganizationWithLevel[]> {
      const rows = await tx
        .select({ organization: organizations, level: organizationMemberships.level })
        .from(organizations)
        .innerJoin(organizationMemberships, eq(organizationMemberships.organizationId, organizations.id))
        .where(eq(organizationMemberships.userId, userId))
        .orderBy(asc(organizations.createdAt), asc(organizations.id));
      return rows.map((r) => ({ ...r.organization, membershipLevel: r.level }));
    },

    async updateOrganization(id: string, patch: Partial<typeof organizations.$inferInsert>, tx: Db = db): Promise<void> {
      await tx
        .update(organizations)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(eq(organizations.id, id));
    },

    async countMembers(organizationId: string, tx: Db = db): Promise<number> {
      const [row] = await tx
        .select({ n: count() })
        .from(organizationMemberships)
        .innerJoin(users, eq(users.id, organizationMemberships.userId))
        .where(and(eq(organizationMemberships.organizationId, organizationId), eq(users.isActive, true)));
      return row?.n ?? 0;
    },

    async insertMembership(
      values: { id: string; organizationId: string; userId: number; level: MembershipLevelValue },
      tx: Db = db,
    ): Promise<void> {
      await tx.insert(organizationMemberships).values(values);
    },

    async membershipLevel(organizationId: string, userId: number, tx: Db = db): Promise<MembershipLevelValue | null> {
      const [row] = await tx
        .select({ level: organizationMemberships.level })
        .from(organizationMemberships)
        .where(and(eq(organizationMemberships.organizationId, organizationId), eq(organizationMemberships.userId, userId)));
      return row?.level ?? null;
    },

    /** Takes one value of the team id sequence for a project and its first team, as PostHog's create_with_team. */
    async insertProjectWithTeam(
      values: { organizationId: string; name: string; teamUuid: string; apiToken: string; secretApiToken: string },
      tx: Db = db,
    ): Promise<{ project: ProjectRow; team: TeamRow }> {
      const [seq] = await queryRows<{ id: string | number }>(tx, sql`select nextval('teams_id_seq') as id`);
      const id = Number(seq!.id);
      const [project] = await tx.insert(projects).values({ id, organizationId: values.organizationId, name: values.name }).returning();
      const [team] = await tx
        .insert(teams)
        .values({
          id,
          uuid: values.teamUuid,
          organizationId: values.organizationId,
          projectId: id,
          name: values.name,
          apiToken: values.apiToken,
          secretApiToken: values.secretApiToken,
        })
        .returning();
      return { project: project!, team: team! };
    },

    async findTeamAccess(teamId: number, userId: number): Promise<TeamAccess | undefined> {
      const [row] = await teamAccessQuery.execute({ teamId, userId });
      return row && { team: row.team, organization: row.organization, membershipLevel: row.level };
    },

    async findTeam(teamId: number, tx: Db = db): Promise<TeamRow | undefined> {
      const [row] = await tx.select().from(teams).where(eq(teams.id, teamId));
      return row;
    },

    /** The team whose public project token (phc_...) this is: what capture and remote config are addressed by. */
    async findTeamByApiToken(apiToken: string): Promise<TeamRow | undefined> {
      const [row] = await db.select().from(teams).where(eq(teams.apiToken, apiToken));
      return row;
    },

    async findProject(projectId: number, tx: Db = db): Promise<ProjectRow | undefined> {
      const [row] = await tx.select().from(projects).where(eq(projects.id, projectId));
      return row;
    },

    async listTeamsForOrganizations(organizationIds: string[], tx: Db = db): Promise<TeamRow[]> {
      if (organizationIds.length === 0) return [];
      return tx.select().from(teams).where(inArray(teams.organizationId, organizationIds)).orderBy(asc(teams.id));
    },

    async listProjectsForOrganizations(organizationIds: string[], tx: Db = db): Promise<ProjectRow[]> {
      if (organizationIds.length === 0) return [];
      return tx.select().from(projects).where(inArray(projects.organizationId, organizationIds)).orderBy(asc(projects.id));
    },

    async updateTeam(teamId: number, patch: Partial<typeof teams.$inferInsert>, tx: Db = db): Promise<TeamRow> {
      const [row] = await tx
        .update(teams)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(eq(teams.id, teamId))
        .returning();
      return row!;
    },

    async renameProject(projectId: number, name: string, tx: Db = db): Promise<void> {
      await tx.update(projects).set({ name, updatedAt: sql`now()` }).where(eq(projects.id, projectId));
    },

    /** An organization by id regardless of membership (the CLI); ids that are not UUIDs are simply not found. */
    async findOrganizationById(organizationId: string, tx: Db = db): Promise<OrganizationRow | undefined> {
      if (!isUuid(organizationId)) return undefined;
      const [row] = await tx.select().from(organizations).where(eq(organizations.id, organizationId.toLowerCase()));
      return row;
    },

    /** Every user of the instance, oldest first (the CLI's list-users). */
    async listUsers(tx: Db = db): Promise<UserRow[]> {
      return tx.select().from(users).orderBy(asc(users.id));
    },
  };
}

export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
