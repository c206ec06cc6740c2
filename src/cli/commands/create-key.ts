import type { Command } from 'commander';
import { ValidationError } from '../../lib/errors.js';
import { parseInput } from '../../lib/validation.js';
import { CreatePersonalApiKeyBody } from '../../modules/api-keys/index.js';
import { list, print, withServices } from '../run.js';

interface Flags {
  email: string;
  scopes: string;
  label: string;
  scopedTeams?: string;
  scopedOrganizations?: string;
}

export function registerCreateKey(program: Command): void {
  program
    .command('create-key')
    .description("Create a personal API key for a user, with the API's rules for scopes and scoped teams/organizations. The key is printed once.")
    .requiredOption('--email <email>', 'the user who owns the key')
    .requiredOption('--scopes <scopes>', 'comma-separated scopes such as "heatmap:read,export:write", or "*" for all')
    .option('--label <label>', 'label (at most 40 characters)', 'CLI key')
    .option('--scoped-teams <ids>', 'comma-separated project ids the key is limited to (the user must be a member of each)')
    .option('--scoped-organizations <uuids>', 'comma-separated organization ids the key is limited to (the user must be a member of each)')
    .action(async (flags: Flags) => {
      const scopes = list(flags.scopes) ?? [];
      if (scopes.length === 0) throw new ValidationError('Give at least one scope, or * for all.', 'scopes');
      const input = parseInput(CreatePersonalApiKeyBody, {
        label: flags.label,
        scopes,
        scoped_teams: list(flags.scopedTeams),
        scoped_organizations: list(flags.scopedOrganizations),
      });
      await withServices(async ({ apiKeys }) => print(await apiKeys.createForEmail(flags.email, input)));
    });
}
