import type { Logger } from 'pino';
import { createBrowserPool } from './browser/pool.js';
import { type Config, pagesBasePath } from './config.js';
import type { Database } from './db/client.js';
import { createMaintenanceJobs, maintenanceJobDefinitions } from './jobs/maintenance.js';
import { createJobQueue } from './jobs/queue.js';
import { mergeJobs } from './jobs/registry.js';
import { createSharedRedis } from './lib/redis.js';
import { createSignal } from './lib/signal.js';
import { createApiKeysModule } from './modules/api-keys/index.js';
import { createAuthModule } from './modules/auth/index.js';
import { captureJobDefinitions, createCaptureModule, sdkFiles } from './modules/capture/index.js';
import { createExportsModule, exportJobDefinitions } from './modules/exports/index.js';
import { createFileSystemModule } from './modules/file-system/index.js';
import { createHeatmapDataModule } from './modules/heatmap-data/index.js';
import { createHeatmapsModule, heatmapJobDefinitions } from './modules/heatmaps/index.js';
import { createIdentityModule } from './modules/identity/index.js';
import { createInstanceModule } from './modules/instance/index.js';
import { createIntegrationsModule } from './modules/integrations/index.js';
import { createPersistedFoldersModule } from './modules/persisted-folders/index.js';
import { createRecordingsModule } from './modules/recordings/index.js';
import { createReplayAiModule } from './modules/replay-ai/index.js';
import { createSessionsModule } from './modules/sessions/index.js';
import { createSharingModule } from './modules/sharing/index.js';
import { createMailer, createSubscriptionsModule, subscriptionJobDefinitions } from './modules/subscriptions/index.js';
import { createShortcutsModule } from './modules/shortcuts/index.js';
import { createWebModule } from './modules/web/index.js';
import { createWebappModule } from './modules/webapp/index.js';
import { createUrlGuard } from './net/url-guard.js';
import { createBlobStore } from './storage/index.js';
import { VERSION } from './version.js';

/**
 * Composes the areas once: the shared machinery (queue, browser, URL guard), then each area's module with what it
 * needs from the others. Everything the app, the workers and the command line use comes from here.
 */
export function createContainer(database: Database, config: Config, log: Logger) {
  const { db } = database;
  const queue = createJobQueue({ db, listen: database.listen, definitions: { ...maintenanceJobDefinitions, ...heatmapJobDefinitions, ...captureJobDefinitions, ...exportJobDefinitions, ...subscriptionJobDefinitions }, log });
  const guard = createUrlGuard({ allowedHosts: config.render.allowedHosts });
  // Launches Chromium only when the first render needs it, so processes that never render never start it.
  const browser = createBrowserPool({
    chromiumPath: config.render.chromiumPath,
    concurrency: config.render.concurrency,
    recycleAfter: config.render.recycleAfter,
    log,
  });
  const blobs = createBlobStore(config.blobStore, db);
  const identityChanged = createSignal();
  // Connected and closed by the HTTP app, whose limits it keeps: workers and the command line never connect it.
  const redis = config.redisUrl ? createSharedRedis(config.redisUrl, log) : null;

  const identity = createIdentityModule({ db, identityChanged });
  const apiKeys = createApiKeysModule({ db, identity: identity.directory, users: identity.admin, identityChanged });
  const instance = createInstanceModule({ database, identity, apiKeys, config });
  const auth = createAuthModule({ identity, apiKeys, config, identityChanged, redis, signingKey: () => instance.service.secretKey() });
  const webapp = createWebappModule({
    config,
    auth: auth.auth,
    users: identity.users,
    projects: identity.projects,
    ping: () => instance.service.ping(),
    countUsers: () => identity.directory.countUsers(),
    version: VERSION,
  });
  const shortcuts = createShortcutsModule({ db });
  const fileSystem = createFileSystemModule({ db, shortcuts });
  const heatmaps = createHeatmapsModule({ db, queue, guard, browser, renderSettings: config.render, tree: fileSystem.tree });
  const heatmapData = createHeatmapDataModule({ db, screenshots: heatmaps.screenshots, log });
  const persistedFolders = createPersistedFoldersModule({ db });
  const recordings = createRecordingsModule({ db, blobs, apiTier: config.recordingsApiTier });
  const sharing = createSharingModule({
    db,
    gracePeriodMs: config.sharingTokenGracePeriodMs,
    recordingOf: (team, id) => recordings.sharedView({ team }, id),
    signingKey: () => instance.service.secretKey(),
    log,
    pagesBasePath: pagesBasePath(config),
    staticFallback: sdkFiles(webapp.staticFallback),
  });
  const sessions = createSessionsModule({ db });
  const exports = createExportsModule({
    db,
    queue,
    blobs,
    guard,
    signingKey: () => instance.service.secretKey(),
    createWaitMs: config.exportCreateWaitMs,
    heatmaps: heatmapData.service,
    renderPage: heatmaps.renderPage,
    browser,
    ffmpegPath: config.ffmpegPath,
  });
  const mailer = createMailer(config.email);
  const integrations = createIntegrationsModule({ db, slackApiUrl: config.slackApiUrl, secretKey: () => instance.service.secretKey() });
  const subscriptions = createSubscriptionsModule({
    db,
    guard,
    queue,
    sources: { startedSince: recordings.startedSince },
    exports: exports.service,
    mailer,
    integrations: integrations.service,
    slackClient: integrations.slack,
    secretKey: () => instance.service.secretKey(),
    siteUrl: config.siteUrl ?? `http://localhost:${config.port}`,
  });
  const replayAi = createReplayAiModule({ llm: config.llm, models: config.replayAi, log });
  const web = createWebModule({ basePath: pagesBasePath(config), siteUrl: config.siteUrl, port: config.port, version: VERSION });
  const capture = createCaptureModule({ db, blobs, log, queue, identity, identityChanged, eventsRetentionDays: config.eventsRetentionDays, capture: config.capture });

  return {
    database,
    config,
    log,
    queue,
    browser,
    /** BLOB_STORE: where recording blocks' bytes are. */
    blobs,
    /** With REDIS_URL: where the throttle and the failed-login counters are shared. */
    redis,
    auth: auth.auth,
    /** What a share link's token opens (the auth plugin's sharing token authentication). */
    sharedRecordingOf: sharing.sharedRecordingOf,
    /** Subscription emails' SMTP connections (pooled): closed at shutdown. */
    mailer,
    /** One pass of the subscriptions' scheduler (tests, the command line). */
    enqueueDueDeliveries: subscriptions.enqueueDueDeliveries,
    /** Exports: public links' tokens (subscriptions). */
    exports: exports.service,
    /** How export jobs call the API as the export's creator; the HTTP app attaches itself (app.ts). */
    internalApi: exports.internalApi,
    instance: instance.service,
    /** Creates users, organizations and projects (first-run set-up, tests). */
    accounts: identity.accounts,
    /** What the command line drives. */
    admin: { accounts: identity.admin, apiKeys: apiKeys.service, instance: instance.service },
    /** Every area's routes, in the order they are registered (the OpenAPI document follows it). */
    routes: [
      instance.routes,
      web.routes,
      auth.routes,
      identity.routes,
      apiKeys.routes,
      heatmaps.routes,
      heatmapData.routes,
      fileSystem.routes,
      persistedFolders.routes,
      shortcuts.routes,
      capture.routes,
      recordings.routes,
      ...sharing.routes,
      sharing.publicRoutes,
      replayAi.routes,
      sessions.routes,
      exports.routes,
      exports.publicRoutes,
      integrations.routes,
      subscriptions.routes,
      subscriptions.publicRoutes,
      // Last: with a configured frontend, its shell answers the browser paths no other route has.
      ...webapp.routes,
    ],
    jobs: mergeJobs([createMaintenanceJobs({ purgeExpiredSessions: () => identity.sessions.deleteExpired(), queue }), heatmaps.jobs, capture.jobs, exports.jobs, subscriptions.jobs]),
  };
}

export type Container = ReturnType<typeof createContainer>;
