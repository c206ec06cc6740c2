import type { RouteAccess } from '../../services/auth/access.js';
import type { RoutePlugin } from '../types.js';
import { UpdateUserBody, UserParams, UserSchema } from './schemas.js';

const read: RouteAccess = { scope: { object: 'user', action: 'read' }, target: { kind: 'user' } };
const write: RouteAccess = { scope: { object: 'user', action: 'write' }, target: { kind: 'user' }, recentAuthentication: true };

export const usersRoutes: RoutePlugin = async (app, { services }) => {
  app.get(
    '/api/users/:uuid/',
    {
      config: { access: read },
      schema: { operationId: 'users_retrieve', tags: ['users'], params: UserParams, response: { 200: UserSchema } },
    },
    async (request) => services.users.retrieve(request.actor!, request.params.uuid),
  );

  app.patch(
    '/api/users/:uuid/',
    {
      config: { access: write },
      schema: { operationId: 'users_partial_update', tags: ['users'], params: UserParams, body: UpdateUserBody, response: { 200: UserSchema } },
    },
    async (request) => services.users.update(request.actor!, request.params.uuid, request.body ?? {}),
  );
};
