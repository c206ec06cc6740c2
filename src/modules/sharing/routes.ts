import { z } from 'zod';
import { actorOf, teamOf } from '../../http/route.js';
import { ErrorOrMessageSchema, ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { CreatedPasswordSchema, CreatePasswordBody, PasswordParams, SharingConfigurationSchema, SharingParams, SharingPatchBody } from './contract.js';
import type { SharingService } from './service.js';

const read = { object: 'sharing_configuration', action: 'read' } as const;
const write = { object: 'sharing_configuration', action: 'write' } as const;

/** A recording's share link (/session_recordings/:session_id/sharing/), under both prefixes (session_recordings.md §10.3). */
export const sharingRoutes = (sharing: SharingService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['session_recordings'];
    const base = '/session_recordings/:session_id/sharing/';

    app.get(
      base,
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'session_recordings_sharing_list',
          tags,
          summary: "The recording's share (one object; an unsaved default with a new token until it is saved)",
          params: SharingParams,
          response: { 200: SharingConfigurationSchema },
        },
      },
      async (request) => sharing.get(teamOf(request), request.params.session_id),
    );

    app.patch(
      base,
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'session_recordings_sharing_partial_update',
          tags,
          summary: 'Turn the share on or off, set its settings, require a password',
          params: SharingParams,
          body: SharingPatchBody,
          response: { 200: SharingConfigurationSchema, 400: ErrorSchema },
        },
      },
      async (request) => sharing.update(teamOf(request), request.params.session_id, request.body ?? {}),
    );

    app.post(
      `${base}refresh/`,
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'session_recordings_sharing_refresh_create',
          tags,
          summary: 'A new access token; the old one keeps working for SHARING_TOKEN_GRACE_PERIOD_SECONDS',
          params: SharingParams,
          response: { 200: SharingConfigurationSchema },
        },
      },
      async (request) => sharing.refresh(teamOf(request), request.params.session_id),
    );

    app.post(
      `${base}passwords/`,
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'session_recordings_sharing_passwords_create',
          tags,
          summary: 'Add a password to a password-protected share; the password is shown only in this answer',
          params: SharingParams,
          body: CreatePasswordBody,
          response: { 201: CreatedPasswordSchema, 400: ErrorOrMessageSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await sharing.createPassword(teamOf(request), actorOf(request), request.params.session_id, request.body ?? {})),
    );

    app.delete(
      `${base}passwords/:password_id/`,
      {
        config: { access: { scope: write, target: team } },
        schema: { operationId: 'session_recordings_sharing_passwords_destroy', tags, params: PasswordParams, response: { 204: z.null(), 404: ErrorSchema } },
      },
      async (request, reply) => {
        await sharing.deletePassword(teamOf(request), request.params.session_id, request.params.password_id);
        return reply.code(204).send(null);
      },
    );
  });
