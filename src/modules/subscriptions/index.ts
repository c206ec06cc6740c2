import type { Db } from '../../db/client.js';
import type { UrlGuard } from '../../net/url-guard.js';
import { createSubscriptionsRepository } from './repository.js';
import { subscriptionsRoutes } from './routes.js';
import { createSubscriptionsService } from './service.js';

export type { SubscriptionsService } from './service.js';

export interface SubscriptionsModuleDeps {
  db: Db;
  guard: UrlGuard;
}

/** Subscriptions (/subscriptions/): the API and its schedule rules; delivery is not built yet. */
export function createSubscriptionsModule({ db, guard }: SubscriptionsModuleDeps) {
  const service = createSubscriptionsService({ subscriptions: createSubscriptionsRepository(db), guard });
  return { routes: subscriptionsRoutes(service), service };
}
