import type { Db } from '../../db/client.js';
import { createIntegrationsRepository } from './repository.js';
import { integrationsRoutes } from './routes.js';
import { createIntegrationsService } from './service.js';
import { createSlackClient } from './slack.js';

export type { IntegrationsService } from './service.js';
export { SlackApiError, type SlackClient } from './slack.js';

export interface IntegrationsModuleDeps {
  db: Db;
  /** SLACK_API_URL: Slack's Web API (https://slack.com/api), or a server that speaks it. */
  slackApiUrl: string;
  secretKey: () => Promise<string>;
}

/** Integrations (/integrations/): Slack workspaces by bot token, and the Slack client subscriptions deliver with. */
export function createIntegrationsModule({ db, slackApiUrl, secretKey }: IntegrationsModuleDeps) {
  const slack = createSlackClient(slackApiUrl);
  const service = createIntegrationsService({ integrations: createIntegrationsRepository(db), slack, secretKey });
  return { routes: integrationsRoutes(service), service, slack };
}
