import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** What the server does with the next request: answer a status and a raw body, or never answer. */
export type Script = { status: number; body: string } | 'hang';

/** The answer of a chat-completions API whose message content is `content` (a string, or null for an empty one). */
export const completion = (content: string | null): Script => ({
  status: 200,
  body: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }),
});
export const jsonCompletion = (value: unknown): Script => completion(JSON.stringify(value));

/**
 * A real local HTTP server speaking OpenAI's chat-completions API: it records every request and answers what the
 * test scripted (by default an empty completion).
 */
export async function startChatCompletionsServer() {
  const requests: RecordedRequest[] = [];
  let script: Script = completion(null);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : null });
      if (script === 'hang') return;
      res.writeHead(script.status, { 'content-type': 'application/json' }).end(script.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    answer(next: Script) {
      script = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
