import { z } from 'zod';

/** drf-exceptions-hog's body, the shape of every error. */
export const ErrorSchema = z
  .object({
    type: z.enum(['validation_error', 'authentication_error', 'invalid_request', 'throttled_error', 'server_error']),
    code: z.string(),
    detail: z.string(),
    attr: z.string().nullable(),
  })
  .meta({ id: 'Error' });

/** Django's EmailField accepts single-label domains such as admin@localhost, as the HTML5 rule does. */
export const Email = z.email({ pattern: z.regexes.html5Email });

export const DateTime = z.string().meta({ format: 'date-time', description: 'ISO 8601, UTC, with Z' });

export const MembershipLevel = z.union([z.literal(1), z.literal(8), z.literal(15)]).meta({
  description: '1 member, 8 admin, 15 owner',
});

export const RoleAtOrganization = z.enum(['engineering', 'data', 'product', 'founder', 'leadership', 'marketing', 'sales', 'other']);

export const UserBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.uuid(),
    distinct_id: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    is_email_verified: z.boolean().nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal(''), z.null()]),
  })
  .meta({ id: 'UserBasic' });

export const TeamBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.uuid(),
    organization: z.uuid(),
    project_id: z.number().int(),
    api_token: z.string(),
    name: z.string(),
    completed_snippet_onboarding: z.boolean(),
    has_completed_onboarding_for: z.record(z.string(), z.boolean()).nullable(),
    ingested_event: z.boolean(),
    is_demo: z.boolean(),
    timezone: z.string(),
    access_control: z.boolean(),
  })
  .meta({ id: 'TeamBasic' });

export const OrganizationBasicSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    logo_media_id: z.uuid().nullable(),
    membership_level: MembershipLevel.nullable(),
    members_can_use_personal_api_keys: z.boolean(),
    is_active: z.boolean().nullable(),
    is_not_active_reason: z.string().nullable(),
    is_pending_deletion: z.boolean().nullable(),
  })
  .meta({ id: 'OrganizationBasic' });

export const IdParams = z.object({ id: z.string() });

export type UserBasic = z.infer<typeof UserBasicSchema>;
export type TeamBasic = z.infer<typeof TeamBasicSchema>;
export type OrganizationBasic = z.infer<typeof OrganizationBasicSchema>;
