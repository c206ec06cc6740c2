import type { Command } from 'commander';
import { print, withServices } from '../run.js';

export function registerListKeys(program: Command): void {
  program
    .command('list-keys')
    .description("List a user's personal API keys (masked; key values are never shown again).")
    .requiredOption('--email <email>', 'the user')
    .action(async (flags: { email: string }) => {
      await withServices(async ({ apiKeys }) => print(await apiKeys.listForEmail(flags.email)));
    });
}
