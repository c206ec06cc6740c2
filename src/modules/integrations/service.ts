import { serialId } from '../../lib/ids.js';
import { BurrowError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { seal, unseal } from '../../lib/secret-box.js';
import { isoZ } from '../../lib/time.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import type { PageParams } from '../../lib/wire.js';
import { type Actor, type TeamAccess, toUserBasic } from '../identity/index.js';
import { type CreateIntegrationInput, INTEGRATION_KINDS, type Integration, type IntegrationKind, type SlackChannels, type SlackChannelsInput } from './contract.js';
import type { IntegrationsRepository, IntegrationWithCreator } from './repository.js';
import { type SlackChannel, SlackApiError, type SlackClient } from './slack.js';

/** PostHog keeps a workspace's channel list for an hour. */
const CHANNELS_CACHE_MS = 60 * 60 * 1000;
const DEFAULT_CHANNELS_LIMIT = 50;

/** Slack could not be reached or failed for now: a 502 naming Slack, not a 500. */
export class SlackUnavailableError extends BurrowError {
  constructor(error: SlackApiError) {
    super('bad_gateway', 'slack_unavailable', `Slack could not be reached: ${error.code}`);
  }
}

/** The token no longer works (revoked, the app removed): PostHog's slack_integration_inactive. */
class SlackInactiveError extends BurrowError {
  constructor() {
    super('validation', 'slack_integration_inactive', 'Your Slack connection is no longer active. Reconnect Slack to load channels and pick a destination.');
  }
}

export interface IntegrationsServiceDeps {
  integrations: IntegrationsRepository;
  slack: SlackClient;
  secretKey: () => Promise<string>;
}

const toIntegration = (row: IntegrationWithCreator): Integration => ({
  id: row.id,
  kind: row.kind as IntegrationKind,
  config: row.config,
  created_at: isoZ(row.createdAt),
  created_by: row.createdBy && toUserBasic(row.createdBy),
  errors: row.errors,
  display_name: displayNameOf(row),
  files_write_requestable: row.kind === 'slack',
  installation_shared: null,
  installation_status: null,
});

/** A Slack integration is shown by its workspace's name (PostHog's display_name). */
function displayNameOf(row: IntegrationWithCreator): string {
  const team = row.config.team as { name?: unknown } | undefined;
  return typeof team?.name === 'string' && team.name !== '' ? team.name : row.integrationId;
}

/** Integrations (/integrations/): Slack workspaces connected by bot token, and their channels. */
export function createIntegrationsService(deps: IntegrationsServiceDeps) {
  const { integrations, slack } = deps;
  const channelCache = new TtlCache<number, { channels: SlackChannel[]; at: string }>(CHANNELS_CACHE_MS, 1000);

  async function find(team: TeamAccess, rawId: string): Promise<IntegrationWithCreator> {
    const id = serialId(rawId);
    const row = id === null ? undefined : await integrations.find(team.team.id, id);
    if (!row) throw new NotFoundError();
    return row;
  }

  async function tokenOf(row: IntegrationWithCreator): Promise<string | null> {
    const secrets = unseal(await deps.secretKey(), row.sensitiveConfig);
    if (secrets === null) return null;
    const token = (JSON.parse(secrets) as { access_token?: unknown }).access_token;
    return typeof token === 'string' ? token : null;
  }

  return {
    async list(team: TeamAccess, page: PageParams): Promise<{ results: Integration[]; count: number }> {
      const { rows, count } = await integrations.list(team.team.id, page);
      return { results: rows.map(toIntegration), count };
    },

    async retrieve(team: TeamAccess, id: string): Promise<Integration> {
      return toIntegration(await find(team, id));
    },

    /** Checks the token with Slack (auth.test) and keeps what Slack says about it; the token itself is sealed. */
    async create(team: TeamAccess, actor: Actor, input: CreateIntegrationInput): Promise<Integration> {
      if (!(INTEGRATION_KINDS as readonly string[]).includes(input.kind)) throw new ValidationError(`"${input.kind}" is not a valid choice.`, 'kind', 'invalid_choice');
      const token = input.config.access_token.trim();
      if (!token.startsWith('xox')) throw new ValidationError('A Slack bot token (xoxb-...) is required.', 'config');
      let identity;
      try {
        identity = await slack.authTest(token);
      } catch (error) {
        if (!(error instanceof SlackApiError)) throw error;
        if (error.transient) throw new SlackUnavailableError(error);
        throw new ValidationError(`Slack refused the token: ${error.code}`, 'config');
      }
      if (!identity.teamId) throw new ValidationError('Slack did not name the workspace of this token.', 'config');
      const config = {
        team: { id: identity.teamId, name: identity.teamName },
        bot_user_id: identity.userId,
        bot_id: identity.botId,
        url: identity.url,
        scope: identity.scopes,
        token_type: 'bot',
      };
      const id = await integrations.upsert({
        teamId: team.team.id,
        kind: 'slack',
        integrationId: identity.teamId,
        config,
        sensitiveConfig: seal(await deps.secretKey(), JSON.stringify({ access_token: token })),
        createdById: actor.user.id,
      });
      channelCache.clear();
      return toIntegration((await integrations.find(team.team.id, id))!);
    },

    async delete(team: TeamAccess, id: string): Promise<void> {
      const row = await find(team, id);
      await integrations.delete(team.team.id, row.id);
      channelCache.clear();
    },

    /** channels/: the workspace's channels the bot can see, searched and paged as PostHog's newest API does. */
    async channels(team: TeamAccess, id: string, input: SlackChannelsInput): Promise<SlackChannels> {
      const row = await find(team, id);
      if (row.kind !== 'slack') throw new NotFoundError();
      const token = await tokenOf(row);
      if (token === null) throw new SlackInactiveError();
      const load = async () => {
        try {
          return { channels: await slack.channels(token), at: new Date().toISOString() };
        } catch (error) {
          if (!(error instanceof SlackApiError)) throw error;
          if (error.broken) throw new SlackInactiveError();
          throw new SlackUnavailableError(error);
        }
      };
      let cached;
      if (input.force_refresh) {
        cached = await load();
        channelCache.set(row.id, cached);
      } else {
        cached = await channelCache.getOrLoad(row.id, load);
      }
      const shape = (channel: SlackChannel) => ({ ...channel, is_private_without_access: channel.is_private && !channel.is_member });
      if (input.channel_id) {
        const channel = cached.channels.find((c) => c.id === input.channel_id);
        return { channels: channel ? [shape(channel)] : [], lastRefreshedAt: null, has_more: false };
      }
      const search = input.search?.trim().toLowerCase() ?? '';
      const matching = search ? cached.channels.filter((c) => c.name.toLowerCase().includes(search) || c.id.toLowerCase().includes(search)) : cached.channels;
      const offset = input.offset ?? 0;
      const limit = input.limit ?? DEFAULT_CHANNELS_LIMIT;
      return { channels: matching.slice(offset, offset + limit).map(shape), lastRefreshedAt: cached.at, has_more: matching.length > offset + limit };
    },

    /** A subscription's check: the team's integration of this id, and its kind. */
    async kindOf(teamId: number, id: number): Promise<string | null> {
      return (await integrations.find(teamId, id))?.kind ?? null;
    },

    /** The bot token of the team's Slack integration, or null when it is gone or sealed with another SECRET_KEY. */
    async slackToken(teamId: number, id: number): Promise<string | null> {
      const row = await integrations.find(teamId, id);
      return row?.kind === 'slack' ? tokenOf(row) : null;
    },
  };
}

export type IntegrationsService = ReturnType<typeof createIntegrationsService>;
