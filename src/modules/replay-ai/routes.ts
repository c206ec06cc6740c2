import { ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { AiFiltersBody, AiFiltersResponse, AiRegexBody, AiRegexResponse } from './contract.js';
import type { ReplayAiService } from './service.js';

/** …/session_recordings/ai/regex/ and ai/filters/ under both prefixes (session_recordings.md §12). */
export const replayAiRoutes = (replayAi: ReplayAiService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['session_recordings'];
    // Actions outside PostHog's read and write lists: browser sessions (and legacy keys) only.
    const config = { access: { scope: 'unsupported' as const, target: team } };
    const failures = { 400: ErrorSchema, 502: ErrorSchema, 504: ErrorSchema };

    app.post(
      '/session_recordings/ai/regex/',
      {
        config,
        schema: {
          operationId: 'session_recordings_ai_regex',
          tags,
          summary: 'A regex from a plain-language description, written by the configured LLM and compiled before it is returned',
          body: AiRegexBody,
          response: { 200: AiRegexResponse, ...failures },
        },
      },
      async (request) => replayAi.regex(request.body),
    );

    app.post(
      '/session_recordings/ai/filters/',
      {
        config,
        schema: {
          operationId: 'session_recordings_ai_filters',
          tags,
          summary: "Recording filters from a chat (PostHog's removed endpoint, for older clients)",
          body: AiFiltersBody,
          response: { 200: AiFiltersResponse, ...failures },
        },
      },
      async (request) => replayAi.filters(request.body),
    );
  });
