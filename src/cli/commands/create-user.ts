import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { MembershipLevel } from '../../db/enums.js';
import { ValidationError } from '../../lib/errors.js';
import { parseInput } from '../../lib/validation.js';
import { SignupBody } from '../../modules/auth/index.js';
import { validatePassword } from '../../modules/identity/index.js';
import { organizationOut, projectOut, userOut } from '../output.js';
import { print, withServices } from '../run.js';

const LEVELS = { member: MembershipLevel.member, admin: MembershipLevel.admin, owner: MembershipLevel.owner } as const;
const NewUserFields = SignupBody.pick({ email: true, first_name: true, last_name: true, organization_name: true });

interface Flags {
  email: string;
  password?: string | false;
  passwordStdin?: boolean;
  firstName?: string;
  lastName?: string;
  staff?: boolean;
  organizationName?: string;
  organization?: string;
  level?: keyof typeof LEVELS;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The password to set (validated as signup validates it), null for none, and whether this process generated it (then it is printed once). */
async function choosePassword(flags: Flags): Promise<{ password: string | null; generated: boolean }> {
  if (flags.password === false) return { password: null, generated: false };
  const given = flags.passwordStdin ? await readStdin() : flags.password;
  if (given === undefined) return { password: randomBytes(18).toString('base64url'), generated: true };
  if (given.length > 128) throw new ValidationError('Ensure this field has no more than 128 characters.', 'password', 'max_length');
  await validatePassword(given);
  return { password: given, generated: false };
}

export function registerCreateUser(program: Command): void {
  program
    .command('create-user')
    .description(
      'Create a user. Without --organization the user gets their own organization (as owner) and its default project, as at signup; ' +
        'with --organization the user joins that organization at --level.',
    )
    .requiredOption('--email <email>', 'email address (unique, case-insensitive)')
    .option('--password <password>', 'password; must pass the signup rules (8+ characters, not guessable); default: a generated one, printed once')
    .addOption(new Option('--password-stdin', 'read the password from standard input (keeps it out of shell history and ps)').conflicts('password'))
    .option('--no-password', 'no password: the user can only use personal API keys')
    .option('--first-name <name>', 'first name (default: the part of the email before @)')
    .option('--last-name <name>', 'last name')
    .option('--staff', 'mark the user as instance staff (the instance’s first user always is, as at signup)')
    .addOption(new Option('--organization-name <name>', "name of the user's new organization (default: \"<first name>'s Organization\")").conflicts('organization'))
    .option('--organization <uuid>', 'join this existing organization instead of creating one')
    .addOption(new Option('--level <level>', 'membership level in --organization').choices(Object.keys(LEVELS)))
    .action(async (flags: Flags) => {
      if (flags.level && !flags.organization) throw new ValidationError('--level needs --organization.');
      const fields = parseInput(NewUserFields, {
        email: flags.email,
        first_name: flags.firstName ?? flags.email.trim().split('@')[0],
        last_name: flags.lastName,
        organization_name: flags.organizationName,
      });
      const { password, generated } = await choosePassword(flags);
      await withServices(async ({ accounts }) => {
        const { user, organization, level, team } = await accounts.createUser({
          email: fields.email,
          password,
          firstName: fields.first_name,
          lastName: fields.last_name ?? '',
          staff: flags.staff === true,
          organizationName: fields.organization_name,
          ...(flags.organization && { join: { organizationId: flags.organization, level: LEVELS[flags.level ?? 'member'] } }),
        });
        print({
          user: userOut(user),
          ...(generated && { password }),
          organization: organizationOut(organization, level),
          project: team ? projectOut(team) : null,
        });
      });
    });
}
