import type { Db } from '../../db/client.js';
import { createSessionsRepository } from './repository.js';

export { SESSION_PROPERTY_COLUMNS } from './repository.js';
import { sessionsRoutes } from './routes.js';
import { createSessionsService } from './service.js';

/** Session properties and their values for filters (/sessions/), from the aggregates capture keeps. */
export function createSessionsModule({ db }: { db: Db }) {
  return { routes: sessionsRoutes(createSessionsService({ sessions: createSessionsRepository(db) })) };
}
