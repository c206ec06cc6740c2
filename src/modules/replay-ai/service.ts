import type { Logger } from 'pino';
import { ValidationError } from '../../lib/errors.js';
import type { LlmProvider } from '../../llm/chat-completions.js';
import { type AiFiltersAnswer, type AiFiltersInput, AiFiltersOutput, type AiRegexAnswer, type AiRegexInput, AiRegexOutput } from './contract.js';
import type { ReplayAiPrompts } from './prompts.js';
import { regexProblem } from './regex-check.js';

export interface ReplayAiModels {
  regexModel: string;
  filtersModel: string;
}

/** PostHog's answer outside its Cloud, which the web app shows as it is. */
export class AiNotAvailableError extends ValidationError {
  constructor() {
    super('AI features are only available in PostHog Cloud');
  }
}

export interface ReplayAiServiceDeps {
  /** Null when LLM_BASE_URL is unset. */
  llm: LlmProvider | null;
  models: ReplayAiModels;
  prompts: ReplayAiPrompts;
  log: Logger;
}

/** The session replay AI helpers (session_recordings.md §12): a regex from a description, filters from a chat. */
export function createReplayAiService({ llm, models, prompts, log }: ReplayAiServiceDeps) {
  const provider = (): LlmProvider => {
    if (llm) return llm;
    log.warn('AI helpers are off: set LLM_BASE_URL (and LLM_API_KEY, SESSION_REPLAY_AI_REGEX_MODEL, SESSION_REPLAY_AI_FILTERS_MODEL) to use them');
    throw new AiNotAvailableError();
  };

  return {
    async regex(input: AiRegexInput): Promise<AiRegexAnswer> {
      if (input.regex === undefined) throw new ValidationError('Missing required field: regex');
      const engine = input.engine ?? 'javascript';
      const answer = await provider().completeJson({
        model: models.regexModel,
        system: prompts.regex(engine),
        messages: [{ role: 'user', content: input.regex.split(/\s+/).filter(Boolean).join(' ') }],
        output: { name: 'ai_regex', schema: AiRegexOutput },
      });
      if (answer.result !== 'success') return answer;
      const problem = regexProblem(answer.data.output, engine);
      return problem ? { result: 'error', data: { output: problem } } : answer;
    },

    async filters(input: AiFiltersInput): Promise<AiFiltersAnswer> {
      return provider().completeJson({
        model: models.filtersModel,
        system: prompts.filters(new Date()),
        messages: input.messages,
        output: { name: 'ai_filters', schema: AiFiltersOutput },
      });
    },
  };
}

export type ReplayAiService = ReturnType<typeof createReplayAiService>;
