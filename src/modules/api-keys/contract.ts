import { z } from 'zod';
import { DateTime } from '../../lib/wire.js';

export const PersonalApiKeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    value: z.string().nullable().meta({ description: 'The key itself; only on create and roll.' }),
    mask_value: z.string().nullable(),
    created_at: DateTime,
    last_used_at: DateTime.nullable(),
    user_id: z.number().int(),
    scopes: z.array(z.string()),
    scoped_teams: z.array(z.number().int()).nullable(),
    scoped_organizations: z.array(z.string()).nullable(),
    last_rolled_at: DateTime.nullable(),
  })
  .meta({ id: 'PersonalAPIKey' });

const fields = {
  label: z.string().min(1).max(40),
  scopes: z.array(z.string()),
  scoped_teams: z.array(z.number().int()),
  scoped_organizations: z.array(z.string()),
};

export const CreatePersonalApiKeyBody = z.object({
  label: fields.label,
  scopes: fields.scopes,
  scoped_teams: fields.scoped_teams.optional(),
  scoped_organizations: fields.scoped_organizations.optional(),
});

export const UpdatePersonalApiKeyBody = z.object(fields).partial();

export const PersonalApiKeyParams = z.object({ id: z.string().meta({ description: 'A key id, or @current with key authentication' }) });

export type PersonalApiKey = z.infer<typeof PersonalApiKeySchema>;
export type CreatePersonalApiKeyInput = z.infer<typeof CreatePersonalApiKeyBody>;
export type UpdatePersonalApiKeyInput = z.infer<typeof UpdatePersonalApiKeyBody>;
