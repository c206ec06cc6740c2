import type { Logger } from 'pino';
import { z } from 'zod';
import { BurrowError, ValidationError } from '../lib/errors.js';

/**
 * Structured JSON output from any OpenAI-compatible chat-completions API (OpenAI, Azure's v1 API, Ollama, vLLM,
 * LiteLLM): POST {baseUrl}/chat/completions with a strict `json_schema` response format derived from a zod schema,
 * and the answer validated against that same schema.
 *
 * The base URL is operator configuration, like DATABASE_URL or S3_ENDPOINT, not a URL a user gave, so it does not go
 * through the SSRF guard of net/: a model server on localhost or the private network (Ollama) is the common case.
 * Redirects are refused rather than followed, so the API key is only ever sent to the configured server.
 *
 * PostHog's own messages for what the model answers: an empty completion is "Invalid response from OpenAI", text
 * that is not JSON "Invalid JSON response from OpenAI" (both 400). JSON that misses the schema counts as an invalid
 * response too. The provider failing or not answering in time is a 502 or a 504, logged with the details.
 */

export interface LlmSettings {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface JsonCompletionRequest<S extends z.ZodType> {
  model: string;
  system: string;
  messages: readonly ChatMessage[];
  /** The output's shape: its JSON schema goes to the model (strict), and the answer is parsed with it. */
  output: { name: string; schema: S };
}

export interface LlmProvider {
  completeJson<S extends z.ZodType>(request: JsonCompletionRequest<S>): Promise<z.output<S>>;
}

export class InvalidCompletionError extends ValidationError {
  constructor() {
    super('Invalid response from OpenAI');
  }
}

export class InvalidJsonCompletionError extends ValidationError {
  constructor() {
    super('Invalid JSON response from OpenAI');
  }
}

export class LlmUnavailableError extends BurrowError {
  constructor(detail: string) {
    super('bad_gateway', 'llm_unavailable', detail);
  }
}

export class LlmTimeoutError extends BurrowError {
  constructor(timeoutMs: number) {
    const seconds = timeoutMs / 1000;
    super('gateway_timeout', 'llm_timeout', `The AI provider did not answer within ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`);
  }
}

const CompletionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }).nullish() })).nullish(),
});

/** Longest upstream error body kept in the log. */
const LOGGED_BODY_CHARS = 2000;

export function createLlmProvider(settings: LlmSettings, log: Logger): LlmProvider {
  const url = `${settings.baseUrl}/chat/completions`;

  async function post(body: unknown, model: string): Promise<unknown> {
    const signal = AbortSignal.timeout(settings.timeoutMs);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(settings.apiKey && { authorization: `Bearer ${settings.apiKey}` }) },
        body: JSON.stringify(body),
        redirect: 'error',
        signal,
      });
      const text = await response.text();
      if (!response.ok) {
        log.warn({ url, model, status: response.status, body: text.slice(0, LOGGED_BODY_CHARS) }, 'the AI provider refused the request');
        throw new LlmUnavailableError(`The AI provider answered with status ${response.status}.`);
      }
      return JSON.parse(text);
    } catch (error) {
      if (error instanceof BurrowError) throw error;
      if (signal.aborted) {
        log.warn({ url, model, timeoutMs: settings.timeoutMs }, 'the AI provider did not answer in time');
        throw new LlmTimeoutError(settings.timeoutMs);
      }
      log.warn({ url, model, err: error }, 'the AI provider could not be reached');
      throw new LlmUnavailableError(error instanceof SyntaxError ? 'The AI provider answered with something other than JSON.' : 'The AI provider could not be reached.');
    }
  }

  return {
    async completeJson({ model, system, messages, output }) {
      const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(output.schema, { target: 'draft-7', io: 'output' });
      const completion = CompletionSchema.safeParse(
        await post(
          {
            model,
            messages: [{ role: 'system', content: system }, ...messages],
            response_format: { type: 'json_schema', json_schema: { name: output.name, strict: true, schema: jsonSchema } },
          },
          model,
        ),
      );
      const content = completion.success ? completion.data.choices?.[0]?.message?.content : undefined;
      if (!content) throw new InvalidCompletionError();
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        throw new InvalidJsonCompletionError();
      }
      const result = output.schema.safeParse(parsed);
      if (!result.success) {
        log.info({ model, issues: result.error.issues }, 'the model answered JSON outside the schema');
        throw new InvalidCompletionError();
      }
      return result.data;
    },
  };
}
