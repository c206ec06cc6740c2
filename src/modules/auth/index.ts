import type { Config } from '../../config.js';
import type { SharedRedis } from '../../lib/redis.js';
import type { Signal } from '../../lib/signal.js';
import type { ApiKeysModule } from '../api-keys/index.js';
import type { IdentityModule } from '../identity/index.js';
import { createLoginService } from './login-service.js';
import { authRoutes } from './routes.js';
import { createAuthService } from './service.js';

export type { AuthService, KeySource } from './service.js';
export { SignupBody } from './contract.js';

export interface AuthModuleDeps {
  identity: Pick<IdentityModule, 'directory' | 'sessions' | 'accounts'>;
  apiKeys: Pick<ApiKeysModule, 'lookup'>;
  config: Pick<Config, 'authCacheMs' | 'sessionCookieAgeSeconds' | 'signupEnabled' | 'siteUrl'>;
  /** Cached key lookups and access checks are dropped whenever it is notified. */
  identityChanged: Signal;
  /** With REDIS_URL: failed-login counters shared between processes. */
  redis: SharedRedis | null;
  /** The instance secret (export jobs' internal credentials are signed with it). */
  signingKey: () => Promise<string>;
}

/** Who is calling (keys and browser sessions), what they may reach, and signing up, in and out. */
export function createAuthModule({ identity, apiKeys, config, identityChanged, redis, signingKey }: AuthModuleDeps) {
  const auth = createAuthService({ identity: identity.directory, apiKeys: apiKeys.lookup, sessions: identity.sessions, config, redis, signingKey });
  identityChanged.subscribe(() => auth.invalidateCaches());
  const login = createLoginService({ accounts: identity.accounts, identity: identity.directory, auth, config });
  return { routes: authRoutes(login, config), auth };
}

export type AuthModule = ReturnType<typeof createAuthModule>;
