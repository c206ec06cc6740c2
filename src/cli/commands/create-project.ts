import type { Command } from 'commander';
import { z } from 'zod';
import { parseInput } from '../../lib/validation.js';
import { CreateProjectBody } from '../../modules/identity/index.js';
import { organizationOut, projectOut } from '../output.js';
import { print, withServices } from '../run.js';

const ProjectName = z.object({ name: CreateProjectBody.shape.name.unwrap() });

export function registerCreateProject(program: Command): void {
  program
    .command('create-project')
    .description('Create a project in an existing organization.')
    .requiredOption('--organization <uuid>', 'the organization')
    .requiredOption('--name <name>', 'project name (at most 200 characters)')
    .option('--user <email>', 'a member of the organization who switches to the new project, as its creator would in the app')
    .action(async (flags: { organization: string; name: string; user?: string }) => {
      const { name } = parseInput(ProjectName, { name: flags.name });
      await withServices(async ({ accounts }) => {
        const { team, organization } = await accounts.createProject(flags.organization, name, flags.user);
        print({ project: projectOut(team), organization: organizationOut(organization) });
      });
    });
}
