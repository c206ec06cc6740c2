import { z } from 'zod';
import { DateTime, MembershipLevel, TeamBasicSchema } from '../common/schemas.js';
import { pageSchema } from '../../lib/pagination.js';

export const OrganizationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    logo_media_id: z.uuid().nullable(),
    created_at: DateTime,
    updated_at: DateTime,
    membership_level: MembershipLevel.nullable(),
    plugins_access_level: z.union([z.literal(0), z.literal(3), z.literal(6), z.literal(9)]),
    teams: z.array(TeamBasicSchema),
    projects: z.array(z.object({ id: z.number().int(), organization_id: z.uuid(), name: z.string() })),
    available_product_features: z.array(z.unknown()).nullable(),
    is_member_join_email_enabled: z.boolean(),
    metadata: z.object({ instance_tag: z.string() }),
    customer_id: z.string().nullable(),
    enforce_2fa: z.boolean().nullable(),
    members_can_invite: z.boolean().nullable(),
    members_can_use_personal_api_keys: z.boolean(),
    allow_publicly_shared_resources: z.boolean(),
    member_count: z.number().int(),
    is_ai_data_processing_approved: z.boolean().nullable(),
    default_experiment_stats_method: z.enum(['bayesian', 'frequentist']).nullable(),
    default_anonymize_ips: z.boolean(),
    default_role_id: z.string().nullable(),
    is_active: z.boolean().nullable(),
    is_not_active_reason: z.string().nullable(),
  })
  .meta({ id: 'Organization' });

export const OrganizationListSchema = pageSchema(OrganizationSchema).meta({ id: 'PaginatedOrganizationList' });

export const CreateOrganizationBody = z.object({
  name: z.string().min(1).max(64),
});

export const UpdateOrganizationBody = z
  .object({
    name: z.string().min(1).max(64),
    members_can_use_personal_api_keys: z.boolean(),
  })
  .partial();

export const OrganizationParams = z.object({ id: z.string().meta({ description: 'An organization UUID, or @current' }) });

export type Organization = z.infer<typeof OrganizationSchema>;
export type CreateOrganizationInput = z.infer<typeof CreateOrganizationBody>;
export type UpdateOrganizationInput = z.infer<typeof UpdateOrganizationBody>;
