import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { regexProblem } from '../../../src/modules/replay-ai/regex-check.js';
import { accessTable, teamRows } from '../../helpers/access-table.js';
import { denied, expectError, invalid, ok, sessionHeaders } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { completion, jsonCompletion, startChatCompletionsServer } from './chat-completions-server.js';

const REGEX = 'session_recordings/ai/regex/';
const FILTERS = 'session_recordings/ai/filters/';
const FILTER_ANSWER = {
  result: 'filter',
  data: {
    question: '',
    date_from: '-7d',
    date_to: null,
    filter_group: { type: 'AND', values: [{ type: 'AND', values: [{ key: '$current_url', type: 'event', value: ['pricing'], operator: 'icontains' }] }] },
  },
};

describe('session replay AI helpers', () => {
  let llm: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let ctx: TestContext;
  let offline: TestContext;
  let keyless: TestContext;
  let teamId: number;
  let session: Record<string, string>;
  let key: string;

  beforeAll(async () => {
    llm = await startChatCompletionsServer();
    ctx = await createTestContext({ LLM_BASE_URL: `${llm.url}/`, LLM_API_KEY: 'sk-test-123', LLM_TIMEOUT_SECONDS: '1' }, { captureLogs: true });
    offline = await createTestContext({}, { captureLogs: true, database: ctx.database });
    keyless = await createTestContext({ LLM_BASE_URL: llm.url, SESSION_REPLAY_AI_REGEX_MODEL: 'llama3.2' }, { database: ctx.database });
    const account = await ctx.newAccount();
    teamId = account.teamId;
    session = sessionHeaders(await ctx.login(account.user.email));
    key = await ctx.newKey(account.user, { scopes: ['*'] });
  });

  afterAll(async () => {
    await offline?.close();
    await keyless?.close();
    await ctx?.close();
    await llm?.close();
  });

  beforeEach(() => {
    llm.requests.length = 0;
  });

  const post = (path: string, payload: object, { on = ctx, prefix = 'projects', headers = session } = {}) =>
    on.app.inject({ method: 'POST', url: `/api/${prefix}/${teamId}/${path}`, headers, payload });

  describe('ai/regex', () => {
    it('asks the configured model with the system prompt and a strict JSON schema, and answers its output', async () => {
      llm.answer(jsonCompletion({ result: 'success', data: { output: 'app\\.example\\.com/auth' } }));
      const body = ok(await post(REGEX, { regex: '  pages under\n app.example.com/auth ' }));
      expect(body).toEqual({ result: 'success', data: { output: 'app\\.example\\.com/auth' } });

      expect(llm.requests).toHaveLength(1);
      const [request] = llm.requests;
      expect(request!.method).toBe('POST');
      expect(request!.path).toBe('/v1/chat/completions');
      expect(request!.headers.authorization).toBe('Bearer sk-test-123');
      expect(request!.body.model).toBe('gpt-4.1-mini');
      expect(request!.body.messages).toEqual([
        { role: 'system', content: expect.stringContaining('Escape every character meant literally') },
        { role: 'user', content: 'pages under app.example.com/auth' },
      ]);
      expect(request!.body.messages[0].content).toContain('JavaScript (ECMAScript)');
      expect(request!.body.response_format).toEqual({
        type: 'json_schema',
        json_schema: {
          name: 'ai_regex',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              result: { type: 'string', enum: ['success', 'error'] },
              data: {
                type: 'object',
                properties: { output: { type: 'string', description: expect.any(String) } },
                required: ['output'],
                additionalProperties: false,
              },
            },
            required: ['result', 'data'],
            additionalProperties: false,
          },
        },
      });
    });

    it('sends no Authorization header without LLM_API_KEY (a local server such as Ollama), and the configured model', async () => {
      llm.answer(jsonCompletion({ result: 'success', data: { output: 'a' } }));
      ok(await post(REGEX, { regex: 'a' }, { on: keyless }));
      expect(llm.requests[0]!.headers.authorization).toBeUndefined();
      expect(llm.requests[0]!.body.model).toBe('llama3.2');
    });

    it('needs a browser session', async () => {
      const response = await post(REGEX, { regex: 'x' }, { headers: {} });
      expect(response.statusCode).toBe(401);
      expect(llm.requests).toHaveLength(0);
    });

    it('is served under /api/environments/ too', async () => {
      llm.answer(jsonCompletion({ result: 'success', data: { output: '^/checkout' } }));
      expect(ok(await post(REGEX, { regex: 'starts with /checkout' }, { prefix: 'environments' }))).toEqual({ result: 'success', data: { output: '^/checkout' } });
    });

    it("passes the model's refusal through", async () => {
      llm.answer(jsonCompletion({ result: 'error', data: { output: 'Please ask questions only about regex generation.' } }));
      expect(ok(await post(REGEX, { regex: 'what is the weather' }))).toEqual({ result: 'error', data: { output: 'Please ask questions only about regex generation.' } });
    });

    it('turns a regex that does not compile into result "error"', async () => {
      llm.answer(jsonCompletion({ result: 'success', data: { output: '/app/(settings' } }));
      const body = ok(await post(REGEX, { regex: 'settings pages' }));
      expect(body.result).toBe('error');
      expect(body.data.output).toMatch(/^Invalid regular expression: .*Unterminated group/);
    });

    it('lets lookahead through for the javascript engine and refuses it for re2, whose rules the prompt states', async () => {
      const lookahead = jsonCompletion({ result: 'success', data: { output: '^/app(?!/admin)' } });
      llm.answer(lookahead);
      expect(ok(await post(REGEX, { regex: 'app pages but not admin', engine: 'javascript' }))).toEqual({ result: 'success', data: { output: '^/app(?!/admin)' } });

      llm.answer(lookahead);
      expect(ok(await post(REGEX, { regex: 'app pages but not admin', engine: 're2' }))).toEqual({
        result: 'error',
        data: { output: 'Not a valid RE2 regex: RE2 does not support lookahead or lookbehind' },
      });
      expect(llm.requests[1]!.body.messages[0].content).toContain('RE2 has no lookahead');
    });

    it('accepts RE2 syntax JavaScript lacks for re2, verbatim', async () => {
      llm.answer(jsonCompletion({ result: 'success', data: { output: '(?i)^/(?P<section>blog|docs)/\\w+\\z' } }));
      expect(ok(await post(REGEX, { regex: 'blog or docs posts', engine: 're2' }))).toEqual({ result: 'success', data: { output: '(?i)^/(?P<section>blog|docs)/\\w+\\z' } });
    });

    it('answers PostHog\'s messages for invalid JSON, an empty completion and JSON outside the schema', async () => {
      llm.answer(completion('{"result": "success", "data": '));
      expectError(await post(REGEX, { regex: 'x' }), 400, invalid('Invalid JSON response from OpenAI', null));
      llm.answer(completion(''));
      expectError(await post(REGEX, { regex: 'x' }), 400, invalid('Invalid response from OpenAI', null));
      llm.answer({ status: 200, body: JSON.stringify({ choices: [] }) });
      expectError(await post(REGEX, { regex: 'x' }), 400, invalid('Invalid response from OpenAI', null));
      llm.answer(jsonCompletion({ result: 'maybe', data: { output: 'x' } }));
      expectError(await post(REGEX, { regex: 'x' }), 400, invalid('Invalid response from OpenAI', null));
    });

    it('answers 504 when the provider does not answer in time (LLM_TIMEOUT_SECONDS), and 502 when it fails', async () => {
      llm.answer('hang');
      const started = Date.now();
      expectError(await post(REGEX, { regex: 'x' }), 504, {
        type: 'server_error',
        code: 'llm_timeout',
        detail: 'The AI provider did not answer within 1 second.',
        attr: null,
      });
      expect(Date.now() - started).toBeLessThan(5000);

      llm.answer({ status: 500, body: JSON.stringify({ error: { message: 'The server had an error' } }) });
      expectError(await post(REGEX, { regex: 'x' }), 502, {
        type: 'server_error',
        code: 'llm_unavailable',
        detail: 'The AI provider answered with status 500.',
        attr: null,
      });
      expect(ctx.logs!.text).toContain('The server had an error');
      expect(ctx.logs!.text).not.toContain('sk-test-123');
    });

    it('needs the regex field, before asking anyone', async () => {
      expectError(await post(REGEX, { engine: 're2' }), 400, invalid('Missing required field: regex', null));
      expect(llm.requests).toHaveLength(0);
    });

    it('refuses personal API keys, as PostHog does for actions outside its scope lists', async () => {
      const response = await post(REGEX, { regex: 'x' }, { headers: { authorization: `Bearer ${key}` } });
      expectError(response, 403, denied('This action does not support Personal API Key access'));
      expectError(await post(FILTERS, { messages: [{ role: 'user', content: 'x' }] }, { headers: { authorization: `Bearer ${key}` } }), 403, denied('This action does not support Personal API Key access'));
      expect(llm.requests).toHaveLength(0);
    });

    it('without a provider answers PostHog\'s "only in Cloud" and logs the settings to set', async () => {
      expectError(await post(REGEX, { regex: 'x' }, { on: offline }), 400, invalid('AI features are only available in PostHog Cloud', null));
      expectError(await post(FILTERS, { messages: [{ role: 'user', content: 'x' }] }, { on: offline }), 400, invalid('AI features are only available in PostHog Cloud', null));
      expect(offline.logs!.text).toContain('set LLM_BASE_URL');
    });
  });

  describe('access', () => {
    beforeAll(() => llm.answer(jsonCompletion({ result: 'success', data: { output: 'x' } })));
    accessTable(
      () => ctx,
      teamRows([
        { method: 'POST', path: '/session_recordings/ai/regex/', scope: 'sessions-only', body: { regex: 'x' }, status: 200 },
        { method: 'POST', path: '/session_recordings/ai/filters/', scope: 'sessions-only', body: { messages: [{ role: 'user', content: 'x' }] } },
      ]),
    );
  });

  describe('ai/filters', () => {
    it('sends the whole conversation to the filters model and answers the validated filters', async () => {
      llm.answer(jsonCompletion(FILTER_ANSWER));
      const messages = [
        { role: 'user', content: 'show me people on the pricing page' },
        { role: 'assistant', content: 'Over which period?' },
        { role: 'user', content: 'last week' },
      ];
      expect(ok(await post(FILTERS, { messages }))).toEqual(FILTER_ANSWER);
      const [request] = llm.requests;
      expect(request!.body.model).toBe('gpt-4.1');
      expect(request!.body.messages).toEqual([{ role: 'system', content: expect.stringContaining(`Today is ${new Date().toISOString().slice(0, 10)}`) }, ...messages]);
      expect(request!.body.response_format.json_schema.name).toBe('ai_filters');
      expect(request!.body.response_format.json_schema.schema.properties.result).toEqual({ type: 'string', enum: ['filter', 'question', 'maxai'] });
    });

    it('answers a clarifying question as it is', async () => {
      const question = { result: 'question', data: { question: 'Which page?', date_from: '-5d', date_to: null, filter_group: { type: 'AND', values: [] } } };
      llm.answer(jsonCompletion(question));
      expect(ok(await post(FILTERS, { messages: [{ role: 'user', content: 'people on that page' }] }))).toEqual(question);
    });

    it('refuses output outside the schema (an operator PostHog does not have)', async () => {
      const wrong = structuredClone(FILTER_ANSWER);
      wrong.data.filter_group.values[0]!.values[0]!.operator = 'resembles';
      llm.answer(jsonCompletion(wrong));
      expectError(await post(FILTERS, { messages: [{ role: 'user', content: 'x' }] }), 400, invalid('Invalid response from OpenAI', null));
    });

    it('needs messages', async () => {
      const response = await post(FILTERS, {});
      expect(response.statusCode).toBe(400);
      expect(response.json().attr).toBe('messages');
      expect(llm.requests).toHaveLength(0);
    });
  });
});

describe('regex check', () => {
  it.each([
    ['^/a(?=b)', 'lookahead or lookbehind'],
    ['(?<!x)y', 'lookahead or lookbehind'],
    ['(a)\\1', 'backreferences'],
    ['(?<n>a)\\k<n>', 'backreferences'],
  ])('refuses %s for re2 (%s)', (pattern, what) => {
    expect(regexProblem(pattern, 're2')).toBe(`Not a valid RE2 regex: RE2 does not support ${what}`);
  });

  it.each(['[(?=]x', '\\(?=x', '(?i)abc', '(?s:a.b)', '[]a]', '\\Afoo\\z', '\\d{2,3}'])('accepts %s for re2', (pattern) => {
    expect(regexProblem(pattern, 're2')).toBeNull();
  });

  it('compiles javascript as it is', () => {
    expect(regexProblem('a(?=b)\\1?', 'javascript')).toBeNull();
    expect(regexProblem('a{2', 'javascript')).toBeNull();
    expect(regexProblem('[a-', 'javascript')).toMatch(/^Invalid regular expression/);
  });
});
