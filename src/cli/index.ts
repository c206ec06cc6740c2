import { Command, CommanderError } from 'commander';
import { registerCreateKey } from './commands/create-key.js';
import { registerCreateOrganization } from './commands/create-organization.js';
import { registerCreateProject } from './commands/create-project.js';
import { registerCreateUser } from './commands/create-user.js';
import { registerListKeys } from './commands/list-keys.js';
import { registerListUsers } from './commands/list-users.js';
import { registerMigrate } from './commands/migrate.js';
import { describeError } from './run.js';

/**
 * npm run --silent cli -- <command>: admin commands that create users, organizations, projects and personal API keys
 * through the same services as the API (same rules, same messages), print what they created as JSON on stdout, and
 * exit. Errors go to stderr as "error: <attr>: <detail>" with exit code 1.
 */
const program = new Command()
  .name('burrow')
  .description('Burrow admin commands. Each opens the configured database (DATABASE_URL, or PGlite under DATA_DIR), migrates it, does its work and prints JSON.')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const register of [
  registerMigrate,
  registerCreateUser,
  registerCreateOrganization,
  registerCreateProject,
  registerCreateKey,
  registerListUsers,
  registerListKeys,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
