import type { Command } from 'commander';
import { print, withServices } from '../run.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations and exit.')
    .action(async () => {
      await withServices(async ({ instance }) => print({ migrated: true, ...(await instance.describeDatabase()) }));
    });
}
