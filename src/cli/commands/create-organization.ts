import type { Command } from 'commander';
import { MembershipLevel } from '../../db/enums.js';
import { parseInput } from '../../lib/validation.js';
import { CreateOrganizationBody } from '../../modules/identity/index.js';
import { organizationOut, projectOut, userOut } from '../output.js';
import { print, withServices } from '../run.js';

export function registerCreateOrganization(program: Command): void {
  program
    .command('create-organization')
    .description('Create an organization with its default project, owned by an existing user (who switches to it).')
    .requiredOption('--name <name>', 'organization name (at most 64 characters)')
    .requiredOption('--owner <email>', 'email of the existing user who becomes its owner')
    .action(async (flags: { name: string; owner: string }) => {
      const { name } = parseInput(CreateOrganizationBody, { name: flags.name });
      await withServices(async ({ accounts }) => {
        const { organization, team, owner } = await accounts.createOrganization(flags.owner, name);
        print({ organization: organizationOut(organization, MembershipLevel.owner), project: projectOut(team), owner: userOut(owner) });
      });
    });
}
