import type { PersonalApiKeyRow, SessionRow, UserRow } from '../../db/schema/index.js';

/** Who is calling: a user, through a personal API key or a browser session (never both). */
export interface Actor {
  user: UserRow;
  key: PersonalApiKeyRow | null;
  session: SessionRow | null;
}

/** PostHog's SESSION_SENSITIVE_ACTIONS_AGE: how long a password entry lets a session make sensitive changes. */
export const SENSITIVE_ACTIONS_AGE_SECONDS = 7200;
