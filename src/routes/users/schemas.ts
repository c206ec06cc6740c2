import { z } from 'zod';
import { DateTime, Email, OrganizationBasicSchema, RoleAtOrganization, TeamBasicSchema } from '../common/schemas.js';
import { OrganizationSchema } from '../organizations/schemas.js';

/** PostHog's UserSerializer, in its field order (write-only fields omitted). */
export const UserSchema = z
  .object({
    date_joined: DateTime,
    uuid: z.uuid(),
    distinct_id: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    pending_email: z.string().nullable(),
    is_email_verified: z.boolean().nullable(),
    notification_settings: z.record(z.string(), z.unknown()),
    anonymize_data: z.boolean().nullable(),
    allow_impersonation: z.boolean().nullable(),
    toolbar_mode: z.enum(['disabled', 'toolbar', '']).nullable(),
    has_password: z.boolean(),
    id: z.number().int(),
    is_staff: z.boolean(),
    is_impersonated: z.boolean().nullable(),
    is_impersonated_until: z.string().nullable(),
    is_impersonated_read_only: z.boolean().nullable(),
    sensitive_session_expires_at: z.string().nullable(),
    team: TeamBasicSchema.nullable(),
    organization: OrganizationSchema.nullable(),
    organizations: z.array(OrganizationBasicSchema),
    events_column_config: z.unknown(),
    is_2fa_enabled: z.boolean(),
    has_social_auth: z.boolean(),
    has_sso_enforcement: z.boolean(),
    has_seen_product_intro_for: z.record(z.string(), z.unknown()).nullable(),
    scene_personalisation: z.array(z.object({ scene: z.string(), dashboard: z.number().int().nullable() })),
    theme_mode: z.enum(['light', 'dark', 'system', '']).nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    allow_sidebar_suggestions: z.boolean().nullable(),
    shortcut_position: z.enum(['above', 'below', 'hidden', '']).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal(''), z.null()]),
    passkeys_enabled_for_2fa: z.boolean().nullable(),
  })
  .meta({ id: 'User' });

export const UpdateUserBody = z
  .object({
    first_name: z.string().max(150),
    last_name: z.string().max(150),
    email: Email.max(254),
    password: z.string().max(128),
    current_password: z.string().max(128),
    set_current_organization: z.string(),
    set_current_team: z.string(),
    anonymize_data: z.boolean().nullable(),
    toolbar_mode: z.enum(['disabled', 'toolbar', '']).nullable(),
    theme_mode: z.enum(['light', 'dark', 'system', '']).nullable(),
    hedgehog_config: z.record(z.string(), z.unknown()).nullable(),
    role_at_organization: z.union([RoleAtOrganization, z.literal('')]),
    events_column_config: z.unknown(),
  })
  .partial();

export const UserParams = z.object({ uuid: z.string().meta({ description: '@me, or your own user UUID' }) });

export type User = z.infer<typeof UserSchema>;
export type UpdateUserInput = z.infer<typeof UpdateUserBody>;
