import { buildPage, PaginationQuery, pageParams } from '../../lib/pagination.js';
import type { RouteAccess } from '../../services/auth/access.js';
import { ProjectListSchema } from '../projects/schemas.js';
import type { RoutePlugin } from '../types.js';
import { CreateOrganizationBody, OrganizationListSchema, OrganizationParams, OrganizationSchema, UpdateOrganizationBody } from './schemas.js';

const byId = { kind: 'organization', param: 'id' } as const;
const access = {
  list: { scope: { object: 'organization', action: 'read' }, target: { kind: 'none' } },
  create: { scope: { object: 'organization', action: 'write' }, target: { kind: 'none' } },
  retrieve: { scope: { object: 'organization', action: 'read' }, target: byId },
  update: { scope: { object: 'organization', action: 'write' }, target: byId },
  projects: { scope: { object: 'project', action: 'read' }, target: byId },
} satisfies Record<string, RouteAccess>;

export const organizationsRoutes: RoutePlugin = async (app, { services }) => {
  app.get(
    '/api/organizations/',
    {
      config: { access: access.list },
      schema: { operationId: 'organizations_list', tags: ['organizations'], querystring: PaginationQuery, response: { 200: OrganizationListSchema } },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await services.organizations.list(request.actor!, page);
      return buildPage(request.absoluteUrl(), page, count, results);
    },
  );

  app.post(
    '/api/organizations/',
    {
      config: { access: access.create },
      schema: { operationId: 'organizations_create', tags: ['organizations'], body: CreateOrganizationBody, response: { 201: OrganizationSchema } },
    },
    async (request, reply) => reply.code(201).send(await services.organizations.create(request.actor!, request.body)),
  );

  app.get(
    '/api/organizations/:id/',
    {
      config: { access: access.retrieve },
      schema: { operationId: 'organizations_retrieve', tags: ['organizations'], params: OrganizationParams, response: { 200: OrganizationSchema } },
    },
    async (request) => services.organizations.retrieve(request.organizationAccess!),
  );

  app.patch(
    '/api/organizations/:id/',
    {
      config: { access: access.update },
      schema: {
        operationId: 'organizations_partial_update',
        tags: ['organizations'],
        params: OrganizationParams,
        body: UpdateOrganizationBody,
        response: { 200: OrganizationSchema },
      },
    },
    async (request) => services.organizations.update(request.actor!, request.organizationAccess!, request.body ?? {}),
  );

  app.get(
    '/api/organizations/:id/projects/',
    {
      config: { access: access.projects },
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
      const { count, results } = await services.projects.listForOrganization(request.organizationAccess!, page);
      return buildPage(request.absoluteUrl(), page, count, results);
    },
  );
};
