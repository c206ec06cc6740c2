import { z } from 'zod';
import { query } from '../../http/query.js';
import { DateTime, pageSchema } from '../../lib/wire.js';
import { UserBasicSchema } from '../identity/index.js';

/** The kinds Burrow connects; PostHog has many more (its other names are refused with their own message). */
export const INTEGRATION_KINDS = ['slack'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];

/** PostHog's IntegrationSerializer (IntegrationConfig), in its field order; secrets never leave the server. */
export const IntegrationSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(INTEGRATION_KINDS),
    config: z.record(z.string(), z.unknown()).meta({ description: 'What Slack said about the token: team {id, name}, bot_user_id, scope, url' }),
    created_at: DateTime,
    created_by: UserBasicSchema.nullable(),
    errors: z.string(),
    display_name: z.string(),
    files_write_requestable: z.boolean(),
    installation_shared: z.boolean().nullable(),
    installation_status: z.enum(['connected', 'unavailable']).nullable(),
  })
  .meta({ id: 'Integration' });

export const IntegrationListSchema = pageSchema(IntegrationSchema).meta({ id: 'PaginatedIntegrationList' });

/**
 * Create: PostHog connects Slack through an OAuth round trip (config {code, state}); Burrow takes the bot token the
 * round trip would have given, since a self-hosted server need not be reachable from Slack.
 */
export const CreateIntegrationBody = z.object({
  kind: z.string().meta({ description: 'The kind of integration: slack' }),
  config: z
    .object({
      access_token: z.string().meta({ description: 'A Slack bot token (xoxb-...) of an app installed in the workspace, with chat:write, files:write and channels:read' }),
    })
    .meta({ description: 'The Slack bot token' }),
});

export const IntegrationParams = z.object({ id: z.string().meta({ description: 'A unique integer value identifying this integration.' }) });

export const SlackChannelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    is_private: z.boolean(),
    is_member: z.boolean(),
    is_ext_shared: z.boolean(),
    is_private_without_access: z.boolean(),
  })
  .meta({ id: 'SlackChannel' });

export const SlackChannelsSchema = z
  .object({
    channels: z.array(SlackChannelSchema),
    lastRefreshedAt: z.string().nullable(),
    has_more: z.boolean(),
  })
  .meta({ id: 'SlackChannelsResponse' });

export const SlackChannelsQuery = z.object({
  search: z.string().optional().meta({ description: 'Case-insensitive channel name or ID search' }),
  limit: query.boundedInteger({ min: 1, max: 200 }, { description: 'Channels per page (at most 200; default 50)' }),
  offset: query.boundedInteger({ min: 0 }, { description: 'Channels to skip' }),
  channel_id: z.string().optional().meta({ description: 'One channel by its Slack id; search, limit and offset are then ignored' }),
  force_refresh: query.nullableBoolean({ description: 'Read the channels from Slack instead of the 1 hour cache' }),
});

export type Integration = z.infer<typeof IntegrationSchema>;
export type CreateIntegrationInput = z.infer<typeof CreateIntegrationBody>;
export type SlackChannels = z.infer<typeof SlackChannelsSchema>;
export type SlackChannelsInput = z.output<typeof SlackChannelsQuery>;
