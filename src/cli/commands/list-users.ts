import type { Command } from 'commander';
import { organizationOut, userOut } from '../output.js';
import { print, withServices } from '../run.js';

export function registerListUsers(program: Command): void {
  program
    .command('list-users')
    .description('List every user with their organizations and membership levels.')
    .action(async () => {
      await withServices(async ({ accounts }) => {
        const users = await accounts.listUsers();
        print(users.map(({ user, organizations }) => ({ ...userOut(user), organizations: organizations.map((o) => organizationOut(o, o.membershipLevel)) })));
      });
    });
}
