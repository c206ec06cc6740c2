import { type BurrowError, ValidationError } from './errors.js';

/**
 * Postgres errors that input caused, as the answer a client should get (a 400 in DRF's terms, never a 500).
 * Both drivers report a Postgres error with its SQLSTATE `code` (and `constraint`); drizzle wraps it in a `cause`.
 */

/**
 * Unique indexes a request can race for, each answered as the check that runs before the insert answers the
 * sequential case (two signups with one email at once: the second gets the same 400 as a later one).
 */
const UNIQUE_VIOLATIONS: Record<string, () => BurrowError> = {
  users_email_lower: () => new ValidationError('There is already an account with this email address.', 'email', 'unique'),
};

const BY_SQLSTATE: Record<string, (constraint: string | undefined) => BurrowError> = {
  // unique_violation: the check before the write lost a race.
  '23505': (constraint) => UNIQUE_VIOLATIONS[constraint ?? '']?.() ?? new ValidationError('An object with these values already exists.', null, 'unique'),
  // numeric_value_out_of_range: an integer beyond the column's type.
  '22003': () => new ValidationError('A number in the request is out of range.'),
  // invalid_text_representation: a number too large to be written as an integer.
  '22P02': () => new ValidationError('A valid integer is required.'),
  // invalid_regular_expression: a filter's regex Postgres cannot compile.
  '2201B': () => new ValidationError('Invalid regular expression.'),
  // program_limit_exceeded: a value too large for an index row.
  '54000': () => new ValidationError('A value is too long to be stored.', null, 'max_length'),
};

interface PostgresErrorFields {
  code?: unknown;
  constraint?: unknown;
}

/** The BurrowError for a Postgres error caused by input, or null for any other error. */
export function fromDatabaseError(error: unknown): BurrowError | null {
  for (let current: unknown = error; current instanceof Object; current = (current as { cause?: unknown }).cause) {
    const { code, constraint } = current as PostgresErrorFields;
    if (typeof code === 'string' && code in BY_SQLSTATE) return BY_SQLSTATE[code]!(typeof constraint === 'string' ? constraint : undefined);
  }
  return null;
}
