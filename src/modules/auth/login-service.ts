import type { Config } from '../../config.js';
import { PermissionDeniedError } from '../../lib/errors.js';
import type { SignupInput } from './contract.js';
import { type AccountService, type IdentityModule, toUserBasic, type UserBasic, validatePassword } from '../identity/index.js';
import type { AuthService } from './service.js';

export interface LoginServiceDeps {
  accounts: Pick<AccountService, 'createAccount'>;
  identity: Pick<IdentityModule['directory'], 'countUsers'>;
  auth: Pick<AuthService, 'checkCredentials' | 'startSession' | 'endSession'>;
  config: Pick<Config, 'signupEnabled'>;
}

/** Signup, login and logout of browser sessions. */
export function createLoginService({ accounts, identity, auth, config }: LoginServiceDeps) {
  return {
    /** Open while the database has no user, or always with SIGNUP_ENABLED=true. */
    async signup(input: SignupInput): Promise<{ user: UserBasic & { redirect_url: string }; sessionToken: string }> {
      if (!config.signupEnabled && (await identity.countUsers()) > 0) {
        throw new PermissionDeniedError(
          'New organizations cannot be created in this instance. Contact your administrator if you think this is a mistake.',
        );
      }
      await validatePassword(input.password);
      const { user } = await accounts.createAccount({
        email: input.email,
        password: input.password,
        firstName: input.first_name,
        lastName: input.last_name,
        roleAtOrganization: input.role_at_organization,
        organizationName: input.organization_name,
        // The instance's first user is staff, as in PostHog.
        isStaff: (await identity.countUsers()) === 0,
      });
      return { user: { ...toUserBasic(user), redirect_url: '/' }, sessionToken: await auth.startSession(user.id) };
    },

    async login(email: string, password: string): Promise<string> {
      const user = await auth.checkCredentials(email, password);
      return auth.startSession(user.id);
    },

    logout: (sessionToken: string) => auth.endSession(sessionToken),
  };
}

export type LoginService = ReturnType<typeof createLoginService>;
