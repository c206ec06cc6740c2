import type { Db } from '../../db/client.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { ExportsService } from '../exports/index.js';
import type { IntegrationsService, SlackClient } from '../integrations/index.js';
import { createSubscriptionJobs, enqueueDueDeliveries, type SubscriptionJobQueue } from './jobs.js';
import type { ReportSources } from './report.js';
import { createSubscriptionsRepository } from './repository.js';
import { subscriptionsRoutes, unsubscribeRoutes } from './routes.js';
import type { Mailer } from './email.js';
import { createSubscriptionsService } from './service.js';

export type { SubscriptionsService } from './service.js';
export { subscriptionJobDefinitions } from './jobs.js';

export interface SubscriptionsModuleDeps {
  db: Db;
  guard: UrlGuard;
  queue: SubscriptionJobQueue;
  sources: ReportSources;
  /** The exports service: a saved heatmap report's image is an export with a public /exporter/ link. */
  exports: Pick<ExportsService, 'createForSubscription' | 'subscriptionAsset' | 'assetBytes'>;
  mailer: Pick<Mailer, 'send'>;
  /** Slack subscriptions: the team's Slack integrations, and the client that posts to Slack. */
  integrations: Pick<IntegrationsService, 'kindOf' | 'slackToken'>;
  slackClient: Pick<SlackClient, 'postMessage' | 'uploadFile'>;
  secretKey: () => Promise<string>;
  /** SITE_URL, or http://localhost:PORT: the links in reports. */
  siteUrl: string;
}

/** Subscriptions (/subscriptions/): the API, its schedule rules, and the scheduled delivery of reports. */
export function createSubscriptionsModule({ db, guard, queue, sources, exports, mailer, integrations, slackClient, secretKey, siteUrl }: SubscriptionsModuleDeps) {
  const repository = createSubscriptionsRepository(db);
  const service = createSubscriptionsService({ subscriptions: repository, guard, queue, integrations, secretKey });
  const slack = { token: integrations.slackToken, client: slackClient };
  const jobDeps = { subscriptions: repository, queue, guard, sources, exports, mailer, slack, secretKey, siteUrl };
  return {
    routes: subscriptionsRoutes(service),
    /** /api/unsubscribe (public). */
    publicRoutes: unsubscribeRoutes(service),
    service,
    jobs: createSubscriptionJobs(jobDeps),
    /** One scheduler pass now (the scheduler job runs it every minute); answers how many deliveries it queued. */
    enqueueDueDeliveries: () => enqueueDueDeliveries(jobDeps),
  };
}
export { createMailer } from './email.js';
