import { buildPage, PaginationQuery, pageParams } from '../../lib/pagination.js';
import type { RouteAccess } from '../../services/auth/access.js';
import { TeamBasicSchema } from '../common/schemas.js';
import { pageSchema } from '../../lib/pagination.js';
import type { RoutePlugin } from '../types.js';
import { CreateProjectBody, ProjectListSchema, ProjectParams, ProjectSchema, UpdateProjectBody } from './schemas.js';

const read = { object: 'project', action: 'read' } as const;
const write = { object: 'project', action: 'write' } as const;
const team = { kind: 'team', param: 'id' } as const;
const access = {
  list: { scope: read, target: { kind: 'none' } },
  create: { scope: write, target: { kind: 'organization', param: null } },
  retrieve: { scope: read, target: team },
  update: { scope: write, target: team },
} satisfies Record<string, RouteAccess>;

const EnvironmentListSchema = pageSchema(TeamBasicSchema).meta({ id: 'PaginatedTeamBasicList' });

/** /api/projects/ and /api/environments/: both take a team id (or @current), as PostHog after its environments rollback. */
export const projectsRoutes: RoutePlugin = async (app, { services }) => {
  app.get(
    '/api/projects/',
    {
      config: { access: access.list },
      schema: { operationId: 'projects_list', tags: ['projects'], querystring: PaginationQuery, response: { 200: ProjectListSchema } },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await services.projects.list(request.actor!, page);
      return buildPage(request.absoluteUrl(), page, count, results);
    },
  );

  app.post(
    '/api/projects/',
    {
      config: { access: access.create },
      schema: {
        operationId: 'projects_create',
        tags: ['projects'],
        summary: "Create a project in the caller's current organization (organization admins)",
        body: CreateProjectBody,
        response: { 201: ProjectSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await services.projects.create(request.actor!, request.organizationAccess!, request.body ?? {})),
  );

  app.get(
    '/api/projects/:id/',
    {
      config: { access: access.retrieve },
      schema: { operationId: 'projects_retrieve', tags: ['projects'], params: ProjectParams, response: { 200: ProjectSchema } },
    },
    async (request) => services.projects.retrieve(request.teamAccess!),
  );

  app.patch(
    '/api/projects/:id/',
    {
      config: { access: access.update },
      schema: { operationId: 'projects_partial_update', tags: ['projects'], params: ProjectParams, body: UpdateProjectBody, response: { 200: ProjectSchema } },
    },
    async (request) => services.projects.update(request.teamAccess!, request.body ?? {}),
  );

  app.get(
    '/api/environments/',
    {
      config: { access: access.list },
      schema: { operationId: 'environments_list', tags: ['environments'], querystring: PaginationQuery, response: { 200: EnvironmentListSchema } },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await services.projects.listEnvironments(request.actor!, page);
      return buildPage(request.absoluteUrl(), page, count, results);
    },
  );

  app.get(
    '/api/environments/:id/',
    {
      config: { access: access.retrieve },
      schema: { operationId: 'environments_retrieve', tags: ['environments'], params: ProjectParams, response: { 200: ProjectSchema } },
    },
    async (request) => services.projects.retrieve(request.teamAccess!),
  );
};
