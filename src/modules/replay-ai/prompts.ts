import { readFileSync } from 'node:fs';
import type { RegexEngine } from './contract.js';

export interface ReplayAiPrompts {
  regex(engine: RegexEngine): string;
  filters(today: Date): string;
}

const read = (name: string) => readFileSync(new URL(`./prompts/${name}`, import.meta.url), 'utf8').trim();

/** The system prompts, read once from the .md files beside this module (npm run build copies them to dist/). */
export function loadReplayAiPrompts(): ReplayAiPrompts {
  const regex = read('regex.md');
  const engineRules: Record<RegexEngine, string> = { javascript: read('regex-javascript.md'), re2: read('regex-re2.md') };
  const filters = read('filters.md');
  return {
    regex: (engine) => regex.replace('{{engine_rules}}', engineRules[engine]),
    filters: (today) => filters.replace('{{today}}', today.toISOString().slice(0, 10)),
  };
}
