import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { S3Settings } from './storage/s3-blob-store.js';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
      error: 'must be one of true, false, 1, 0, yes, no, on, off',
    })
    .default(fallback ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * Every environment variable the server reads. Nothing else in src/ reads process.env.
 * README.md lists each of these with its default; keep them in step.
 */
export const ConfigSchema = z.object({
  PORT: int(8000, 1).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  // Start-up holds one connection for its lock while doing its work on another.
  DATABASE_POOL_SIZE: int(10, 2),
  REDIS_URL: optionalString.refine((v) => v === undefined || (/^rediss?:\/\/[^/]/.test(v) && URL.canParse(v)), {
    message: 'must be a redis:// or rediss:// URL',
  }),
  DATA_DIR: z.string().min(1).default('./data'),
  SITE_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/]+/.test(v), {
    message: 'must be an absolute http(s) URL such as https://burrow.example.com',
  }),
  SECRET_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters',
  }),
  SIGNUP_ENABLED: bool(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: bool(false),
  BODY_LIMIT_BYTES: int(20 * 1024 * 1024, 1024),
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_BURST_PER_MINUTE: int(480, 1),
  RATE_LIMIT_SUSTAINED_PER_HOUR: int(4800, 1),
  AUTH_CACHE_SECONDS: int(5),
  SESSION_COOKIE_AGE_SECONDS: int(14 * 24 * 3600, 60),
  BOOTSTRAP: bool(true),
  ADMIN_EMAIL: z.email({ pattern: z.regexes.html5Email, error: 'must be an email address' }).default('admin@localhost'),
  WORKERS: z.enum(['on', 'off']).default('on'),
  WORKER_CONCURRENCY: int(2, 1),
  JOB_POLL_INTERVAL_MS: int(1000, 10),
  JOB_LEASE_SECONDS: int(60, 1),
  CHROMIUM_PATH: optionalString,
  RENDER_CONCURRENCY: int(2, 1),
  RENDER_RECYCLE_AFTER: int(200, 1),
  RENDER_NAVIGATION_TIMEOUT_SECONDS: int(30, 1),
  RENDER_SETTLE_TIMEOUT_SECONDS: int(10, 1),
  RENDER_HEIGHT_CAP_PX: int(16384, 800).pipe(z.number().max(65500)),
  RENDER_MAX_BYTES: int(20 * 1024 * 1024, 1024),
  RENDER_JPEG_QUALITY: int(70, 1).pipe(z.number().max(100)),
  EVENTS_RETENTION_DAYS: int(0),
  CAPTURE_EVENTS_PER_SECOND: int(0),
  CAPTURE_CONCURRENT_WRITES: int(1, 1),
  RECORDINGS_QUOTA_PER_MONTH: int(0),
  RECORDINGS_API_TIER: z.enum(['free', 'paid', 'enterprise']).default('paid'),
  SHARING_TOKEN_GRACE_PERIOD_SECONDS: int(300),
  EXPORT_CREATE_WAIT_SECONDS: int(10),
  FFMPEG_PATH: optionalString,
  EMAIL_HOST: optionalString,
  EMAIL_PORT: int(25, 1).pipe(z.number().max(65535)),
  EMAIL_HOST_USER: optionalString,
  EMAIL_HOST_PASSWORD: optionalString,
  EMAIL_USE_TLS: bool(false),
  EMAIL_USE_SSL: bool(false),
  EMAIL_DEFAULT_FROM: z.string().min(1).default('root@localhost'),
  SLACK_API_URL: z.string().regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL such as https://slack.com/api').default('https://slack.com/api'),
  BLOB_STORE: z.enum(['postgres', 's3']).default('postgres'),
  S3_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/]+/.test(v), {
    message: 'must be an http(s) URL such as http://127.0.0.1:9000',
  }),
  S3_BUCKET: optionalString,
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: bool(true),
  RENDER_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
  LLM_BASE_URL: optionalString.refine((v) => v === undefined || (/^https?:\/\/[^/]/.test(v) && URL.canParse(v)), {
    message: 'must be an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1',
  }),
  LLM_API_KEY: optionalString,
  LLM_TIMEOUT_SECONDS: int(30, 1),
  SESSION_REPLAY_AI_REGEX_MODEL: z.string().trim().min(1).default('gpt-4.1-mini'),
  SESSION_REPLAY_AI_FILTERS_MODEL: z.string().trim().min(1).default('gpt-4.1'),
  POSTHOG_FRONTEND_DIR: optionalString.refine((v) => v === undefined || existsSync(path.join(path.resolve(v), 'index.html')), {
    message: "must be a directory holding PostHog's built index.html (frontend/dist after `pnpm build`)",
  }),
  POSTHOG_FRONTEND_URL: optionalString.refine((v) => v === undefined || (/^https?:\/\/[^/]/.test(v) && URL.canParse(v)), {
    message: 'must be the http(s) URL of a running PostHog frontend dev server, such as http://localhost:8234',
  }),
});

/** Settings that only make sense together. */
const CheckedConfigSchema = ConfigSchema.superRefine((e, context) => {
  if (e.BLOB_STORE === 's3' && !e.S3_BUCKET) context.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when BLOB_STORE=s3' });
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    const missing = e.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
    context.addIssue({ code: 'custom', path: [missing], message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together' });
  }
  if (e.POSTHOG_FRONTEND_DIR && e.POSTHOG_FRONTEND_URL) {
    context.addIssue({ code: 'custom', path: ['POSTHOG_FRONTEND_URL'], message: 'set POSTHOG_FRONTEND_DIR or POSTHOG_FRONTEND_URL, not both' });
  }
});

/** Where the PostHog web app Burrow serves comes from: a built frontend directory, or a frontend dev server. */
export type PosthogFrontend = Readonly<{ kind: 'dir'; dir: string } | { kind: 'url'; url: string }>;

export type Config = Readonly<{
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Throttling and failed-login counters are shared through it when set. */
  redisUrl: string | undefined;
  dataDir: string;
  siteUrl: string | undefined;
  secretKey: string | undefined;
  signupEnabled: boolean;
  logLevel: z.infer<typeof ConfigSchema>['LOG_LEVEL'];
  trustProxy: boolean;
  bodyLimitBytes: number;
  rateLimit: Readonly<{ enabled: boolean; burstPerMinute: number; sustainedPerHour: number }>;
  authCacheMs: number;
  /** Days events, heatmap points and sessions are kept (EVENTS_RETENTION_DAYS); 0 keeps them. */
  eventsRetentionDays: number;
  capture: Readonly<{ eventsPerSecond: number; recordingsQuotaPerMonth: number; concurrentWrites: number }>;
  /** Which of PostHog's plan tiers sets the personal API key throttles of the recordings list and snapshots. */
  recordingsApiTier: z.infer<typeof ConfigSchema>['RECORDINGS_API_TIER'];
  /** How long a share link keeps working after its token was rotated. */
  sharingTokenGracePeriodMs: number;
  /** How long creating an export waits for its file before answering without it (the client then polls). */
  exportCreateWaitMs: number;
  /** FFMPEG_PATH: the ffmpeg recording videos are encoded with; unset, `ffmpeg` is looked up on PATH. */
  ffmpegPath: string | undefined;
  /**
   * Subscription emails over SMTP (PostHog's self-host settings): no host, no email. useTls is STARTTLS on a plain
   * connection, useSsl a TLS connection from the start.
   */
  /** SLACK_API_URL: Slack's Web API, which Slack subscriptions and integrations call. */
  slackApiUrl: string;
  email: Readonly<{ host: string | undefined; port: number; user: string | undefined; password: string | undefined; useTls: boolean; useSsl: boolean; from: string }>;
  /** Where recording blocks are kept (BLOB_STORE and S3_*). */
  blobStore: Readonly<{ kind: 'postgres' } | { kind: 's3'; s3: S3Settings }>;
  sessionCookieAgeSeconds: number;
  bootstrap: boolean;
  adminEmail: string;
  workers: Readonly<{ enabled: boolean; concurrency: number; pollIntervalMs: number; leaseMs: number }>;
  render: Readonly<{
    chromiumPath: string | undefined;
    concurrency: number;
    recycleAfter: number;
    navigationTimeoutMs: number;
    settleTimeoutMs: number;
    heightCapPx: number;
    maxBytes: number;
    jpegQuality: number;
    /** Host names and IP addresses the SSRF guard lets through (RENDER_ALLOWED_HOSTS). */
    allowedHosts: readonly string[];
  }>;
  /** The OpenAI-compatible chat-completions API of the AI helpers; unset baseUrl turns them off. */
  llm: Readonly<{ baseUrl: string | undefined; apiKey: string | undefined; timeoutMs: number }>;
  replayAi: Readonly<{ regexModel: string; filtersModel: string }>;
  /**
   * POSTHOG_FRONTEND_DIR or POSTHOG_FRONTEND_URL (experimental): when set, PostHog's web app owns the browser paths
   * (/, /login, /project/...) and Burrow's own pages move under /burrow (pagesBasePath).
   */
  posthogFrontend: PosthogFrontend | undefined;
}>;

/** Where Burrow's own pages live: under /burrow when the PostHog web app owns the browser paths, else at the root. */
export function pagesBasePath(config: Pick<Config, 'posthogFrontend'>): '' | '/burrow' {
  return config.posthogFrontend ? '/burrow' : '';
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = CheckedConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    dataDir: path.resolve(e.DATA_DIR),
    siteUrl: e.SITE_URL?.replace(/\/+$/, ''),
    secretKey: e.SECRET_KEY,
    signupEnabled: e.SIGNUP_ENABLED,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rateLimit: Object.freeze({
      enabled: e.RATE_LIMIT_ENABLED,
      burstPerMinute: e.RATE_LIMIT_BURST_PER_MINUTE,
      sustainedPerHour: e.RATE_LIMIT_SUSTAINED_PER_HOUR,
    }),
    authCacheMs: e.AUTH_CACHE_SECONDS * 1000,
    eventsRetentionDays: e.EVENTS_RETENTION_DAYS,
    capture: Object.freeze({
      eventsPerSecond: e.CAPTURE_EVENTS_PER_SECOND,
      recordingsQuotaPerMonth: e.RECORDINGS_QUOTA_PER_MONTH,
      concurrentWrites: e.CAPTURE_CONCURRENT_WRITES,
    }),
    recordingsApiTier: e.RECORDINGS_API_TIER,
    sharingTokenGracePeriodMs: e.SHARING_TOKEN_GRACE_PERIOD_SECONDS * 1000,
    exportCreateWaitMs: e.EXPORT_CREATE_WAIT_SECONDS * 1000,
    ffmpegPath: e.FFMPEG_PATH,
    slackApiUrl: e.SLACK_API_URL,
    email: {
      host: e.EMAIL_HOST,
      port: e.EMAIL_PORT,
      user: e.EMAIL_HOST_USER,
      password: e.EMAIL_HOST_PASSWORD,
      useTls: e.EMAIL_USE_TLS,
      useSsl: e.EMAIL_USE_SSL,
      from: e.EMAIL_DEFAULT_FROM,
    },
    blobStore: Object.freeze(
      e.BLOB_STORE === 's3'
        ? {
            kind: 's3' as const,
            s3: {
              endpoint: e.S3_ENDPOINT,
              bucket: e.S3_BUCKET!,
              region: e.S3_REGION,
              credentials: e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } : undefined,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
            },
          }
        : { kind: 'postgres' as const },
    ),
    sessionCookieAgeSeconds: e.SESSION_COOKIE_AGE_SECONDS,
    bootstrap: e.BOOTSTRAP,
    adminEmail: e.ADMIN_EMAIL,
    workers: Object.freeze({
      enabled: e.WORKERS === 'on',
      concurrency: e.WORKER_CONCURRENCY,
      pollIntervalMs: e.JOB_POLL_INTERVAL_MS,
      leaseMs: e.JOB_LEASE_SECONDS * 1000,
    }),
    render: Object.freeze({
      chromiumPath: e.CHROMIUM_PATH,
      concurrency: e.RENDER_CONCURRENCY,
      recycleAfter: e.RENDER_RECYCLE_AFTER,
      navigationTimeoutMs: e.RENDER_NAVIGATION_TIMEOUT_SECONDS * 1000,
      settleTimeoutMs: e.RENDER_SETTLE_TIMEOUT_SECONDS * 1000,
      heightCapPx: e.RENDER_HEIGHT_CAP_PX,
      maxBytes: e.RENDER_MAX_BYTES,
      jpegQuality: e.RENDER_JPEG_QUALITY,
      allowedHosts: Object.freeze(e.RENDER_ALLOWED_HOSTS),
    }),
    llm: Object.freeze({ baseUrl: e.LLM_BASE_URL?.replace(/\/+$/, ''), apiKey: e.LLM_API_KEY, timeoutMs: e.LLM_TIMEOUT_SECONDS * 1000 }),
    replayAi: Object.freeze({ regexModel: e.SESSION_REPLAY_AI_REGEX_MODEL, filtersModel: e.SESSION_REPLAY_AI_FILTERS_MODEL }),
    posthogFrontend: e.POSTHOG_FRONTEND_DIR
      ? Object.freeze({ kind: 'dir' as const, dir: path.resolve(e.POSTHOG_FRONTEND_DIR) })
      : e.POSTHOG_FRONTEND_URL
        ? Object.freeze({ kind: 'url' as const, url: e.POSTHOG_FRONTEND_URL.replace(/\/+$/, '') })
        : undefined,
  });
}
