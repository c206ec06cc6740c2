import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { createLlmProvider } from '../../llm/chat-completions.js';
import { loadReplayAiPrompts } from './prompts.js';
import { replayAiRoutes } from './routes.js';
import { createReplayAiService } from './service.js';

export interface ReplayAiModuleDeps {
  llm: Config['llm'];
  models: Config['replayAi'];
  log: Logger;
}

/** The session replay AI helpers (…/session_recordings/ai/regex/ and ai/filters/) on an OpenAI-compatible API. */
export function createReplayAiModule({ llm, models, log }: ReplayAiModuleDeps) {
  const provider = llm.baseUrl ? createLlmProvider({ ...llm, baseUrl: llm.baseUrl }, log) : null;
  return { routes: replayAiRoutes(createReplayAiService({ llm: provider, models, prompts: loadReplayAiPrompts(), log })) };
}
