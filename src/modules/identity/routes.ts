import type { RouteAccess } from '../../access/route-access.js';
import { PaginationQuery, paginated, pageParams } from '../../http/pagination.js';
import { actorOf, organizationOf, type RoutePlugin, teamOf } from '../../http/route.js';
import { pageSchema } from '../../lib/wire.js';
import {
  CreateOrganizationBody,
  CreateProjectBody,
  OrganizationListSchema,
  OrganizationParams,
  OrganizationSchema,
  ProjectListSchema,
  ProjectParams,
  ProjectSchema,
  TeamBasicSchema,
  UpdateOrganizationBody,
  UpdateProjectBody,
  UpdateUserBody,
  UserParams,
  UserSchema,
} from './contract.js';
import type { OrganizationsService } from './organizations-service.js';
import type { ProjectsService } from './projects-service.js';
import type { UsersService } from './users-service.js';

const access = {
  user: {
    read: { scope: { object: 'user', action: 'read' }, target: { kind: 'user' } },
    write: { scope: { object: 'user', action: 'write' }, target: { kind: 'user' }, recentAuthentication: true },
  },
  organization: {
    list: { scope: { object: 'organization', action: 'read' }, target: { kind: 'none' } },
    create: { scope: { object: 'organization', action: 'write' }, target: { kind: 'none' } },
    retrieve: { scope: { object: 'organization', action: 'read' }, target: { kind: 'organization', param: 'id' } },
    update: { scope: { object: 'organization', action: 'write' }, target: { kind: 'organization', param: 'id' } },
    projects: { scope: { object: 'project', action: 'read' }, target: { kind: 'organization', param: 'id' } },
  },
  project: {
    list: { scope: { object: 'project', action: 'read' }, target: { kind: 'none' } },
    create: { scope: { object: 'project', action: 'write' }, target: { kind: 'organization', param: null } },
    retrieve: { scope: { object: 'project', action: 'read' }, target: { kind: 'team', param: 'id' } },
    update: { scope: { object: 'project', action: 'write' }, target: { kind: 'team', param: 'id' } },
  },
} satisfies Record<string, Record<string, RouteAccess>>;

const EnvironmentListSchema = pageSchema(TeamBasicSchema).meta({ id: 'PaginatedTeamBasicList' });

export interface IdentityRouteServices {
  users: UsersService;
  organizations: OrganizationsService;
  projects: ProjectsService;
}

/** /api/users/, /api/organizations/, /api/projects/ and /api/environments/. */
export const identityRoutes =
  ({ users, organizations, projects }: IdentityRouteServices): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/users/:uuid/',
      {
        config: { access: access.user.read },
        schema: { operationId: 'users_retrieve', tags: ['users'], params: UserParams, response: { 200: UserSchema } },
      },
      async (request) => users.retrieve(actorOf(request), request.params.uuid),
    );

    app.patch(
      '/api/users/:uuid/',
      {
        config: { access: access.user.write },
        schema: { operationId: 'users_partial_update', tags: ['users'], params: UserParams, body: UpdateUserBody, response: { 200: UserSchema } },
      },
      async (request) => users.update(actorOf(request), request.params.uuid, request.body ?? {}),
    );

    app.get(
      '/api/organizations/',
      {
        config: { access: access.organization.list },
        schema: { operationId: 'organizations_list', tags: ['organizations'], querystring: PaginationQuery, response: { 200: OrganizationListSchema } },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { count, results } = await organizations.list(actorOf(request), page);
        return paginated(request, page, count, results);
      },
    );

    app.post(
      '/api/organizations/',
      {
        config: { access: access.organization.create },
        schema: { operationId: 'organizations_create', tags: ['organizations'], body: CreateOrganizationBody, response: { 201: OrganizationSchema } },
      },
      async (request, reply) => reply.code(201).send(await organizations.create(actorOf(request), request.body)),
    );

    app.get(
      '/api/organizations/:id/',
      {
        config: { access: access.organization.retrieve },
        schema: { operationId: 'organizations_retrieve', tags: ['organizations'], params: OrganizationParams, response: { 200: OrganizationSchema } },
      },
      async (request) => organizations.retrieve(organizationOf(request)),
    );

    app.patch(
      '/api/organizations/:id/',
      {
        config: { access: access.organization.update },
        schema: {
          operationId: 'organizations_partial_update',
          tags: ['organizations'],
          params: OrganizationParams,
          body: UpdateOrganizationBody,
          response: { 200: OrganizationSchema },
        },
      },
      async (request) => organizations.update(actorOf(request), organizationOf(request), request.body ?? {}),
    );

    app.get(
      '/api/organizations/:id/projects/',
      {
        config: { access: access.organization.projects },
        schema: {
          operationId: 'organizations_projects_list',
          tags: ['organizations'],
          params: OrganizationParams,
          querystring: PaginationQuery,
          response: { 200: ProjectListSchema },
        },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { count, results } = await projects.listForOrganization(organizationOf(request), page);
        return paginated(request, page, count, results);
      },
    );

    app.get(
      '/api/projects/',
      {
        config: { access: access.project.list },
        schema: { operationId: 'projects_list', tags: ['projects'], querystring: PaginationQuery, response: { 200: ProjectListSchema } },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { count, results } = await projects.list(actorOf(request), page);
        return paginated(request, page, count, results);
      },
    );

    app.post(
      '/api/projects/',
      {
        config: { access: access.project.create },
        schema: {
          operationId: 'projects_create',
          tags: ['projects'],
          summary: "Create a project in the caller's current organization (organization admins)",
          body: CreateProjectBody,
          response: { 201: ProjectSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await projects.create(actorOf(request), organizationOf(request), request.body ?? {})),
    );

    app.get(
      '/api/projects/:id/',
      {
        config: { access: access.project.retrieve },
        schema: { operationId: 'projects_retrieve', tags: ['projects'], params: ProjectParams, response: { 200: ProjectSchema } },
      },
      async (request) => projects.retrieve(teamOf(request)),
    );

    app.patch(
      '/api/projects/:id/',
      {
        config: { access: access.project.update },
        schema: { operationId: 'projects_partial_update', tags: ['projects'], params: ProjectParams, body: UpdateProjectBody, response: { 200: ProjectSchema } },
      },
      async (request) => projects.update(teamOf(request), request.body ?? {}),
    );

    app.get(
      '/api/environments/',
      {
        config: { access: access.project.list },
        schema: { operationId: 'environments_list', tags: ['environments'], querystring: PaginationQuery, response: { 200: EnvironmentListSchema } },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { count, results } = await projects.listEnvironments(actorOf(request), page);
        return paginated(request, page, count, results);
      },
    );

    app.get(
      '/api/environments/:id/',
      {
        config: { access: access.project.retrieve },
        schema: { operationId: 'environments_retrieve', tags: ['environments'], params: ProjectParams, response: { 200: ProjectSchema } },
      },
      async (request) => projects.retrieve(teamOf(request)),
    );
  };
