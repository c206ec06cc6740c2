import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the slice of Slack's Web API Burrow uses: auth.test, conversations.list (cursor paging),
 * chat.postMessage (JSON) and the external upload (files.getUploadURLExternal, the upload URL, then
 * files.completeUploadExternal), with Slack's habits: HTTP 200 and {"ok": false, "error"} for failures, 429 when rate
 * limited, bearer tokens. Tests point SLACK_API_URL at `${url}/api`.
 */

export interface SlackWorkspace {
  teamId: string;
  teamName: string;
  botUserId: string;
}

export interface FakeChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_member?: boolean;
  is_archived?: boolean;
}

export interface PostedMessage {
  token: string;
  channel: string;
  ts: string;
  thread_ts: string | null;
  text: string;
  blocks: unknown[];
  /** An uploaded file shared into the channel (files.completeUploadExternal). */
  file: { title: string; filename: string; bytes: Buffer } | null;
}

type Json = Record<string, unknown>;

export async function slackServer() {
  const tokens = new Map<string, SlackWorkspace>();
  const channels: FakeChannel[] = [];
  const messages: PostedMessage[] = [];
  const calls: string[] = [];
  /** Failures answered to the next calls of a method: an error code, or an HTTP status. */
  const failures: { method: string; error?: string; status?: number }[] = [];
  const uploads = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  let seq = 0;

  const nextTs = () => `${1_700_000_000 + ++seq}.000100`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://slack.local');
      const answer = (body: Json, status = 200) => res.writeHead(status, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write,files:write,channels:read' }).end(JSON.stringify(body));

      if (url.pathname.startsWith('/upload/')) {
        const upload = uploads.get(url.pathname.slice('/upload/'.length));
        if (!upload) return res.writeHead(404).end();
        upload.bytes = raw;
        return res.writeHead(200).end('OK - ' + raw.length);
      }
      const method = url.pathname.replace(/^\/api\//, '');
      calls.push(method);
      const failure = failures.findIndex((f) => f.method === method);
      if (failure >= 0) {
        const [f] = failures.splice(failure, 1);
        if (f!.status) return res.writeHead(f!.status, f!.status === 429 ? { 'retry-after': '1' } : {}).end();
        return answer({ ok: false, error: f!.error });
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token) return answer({ ok: false, error: 'not_authed' });
      const workspace = tokens.get(token);
      if (!workspace) return answer({ ok: false, error: 'invalid_auth' });
      const type = req.headers['content-type'] ?? '';
      const params: Json = type.startsWith('application/json') ? (JSON.parse(raw.toString() || '{}') as Json) : Object.fromEntries(new URLSearchParams(raw.toString()));

      const channelFor = (id: unknown): FakeChannel | string => {
        const channel = channels.find((c) => c.id === id);
        if (!channel) return 'channel_not_found';
        if (channel.is_archived) return 'is_archived';
        if (channel.is_member === false) return 'not_in_channel';
        return channel;
      };

      switch (method) {
        case 'auth.test':
          return answer({ ok: true, url: `https://${workspace.teamName.toLowerCase()}.slack.com/`, team: workspace.teamName, user: 'burrow', team_id: workspace.teamId, user_id: workspace.botUserId, bot_id: 'B0BURROW' });
        case 'conversations.list': {
          const limit = Number(params.limit ?? 100);
          const start = Number(params.cursor ?? 0);
          const live = channels.filter((c) => !(params.exclude_archived === 'true' && c.is_archived));
          const page = live.slice(start, start + limit);
          const next = start + limit < live.length ? String(start + limit) : '';
          return answer({
            ok: true,
            channels: page.map((c) => ({ id: c.id, name: c.name, is_private: c.is_private ?? false, is_member: c.is_member ?? true, is_ext_shared: false, is_archived: c.is_archived ?? false })),
            response_metadata: { next_cursor: next },
          });
        }
        case 'chat.postMessage': {
          const channel = channelFor(params.channel);
          if (typeof channel === 'string') return answer({ ok: false, error: channel });
          const ts = nextTs();
          messages.push({ token, channel: channel.id, ts, thread_ts: (params.thread_ts as string | undefined) ?? null, text: String(params.text ?? ''), blocks: (params.blocks as unknown[]) ?? [], file: null });
          return answer({ ok: true, channel: channel.id, ts });
        }
        case 'files.getUploadURLExternal': {
          const id = `F${++seq}`;
          uploads.set(id, { filename: String(params.filename), length: Number(params.length) });
          const { port } = server.address() as AddressInfo;
          return answer({ ok: true, upload_url: `http://127.0.0.1:${port}/upload/${id}`, file_id: id });
        }
        case 'files.completeUploadExternal': {
          const channel = channelFor(params.channel_id);
          if (typeof channel === 'string') return answer({ ok: false, error: channel });
          const [file] = JSON.parse(String(params.files)) as { id: string; title: string }[];
          const upload = uploads.get(file!.id);
          if (!upload?.bytes || upload.bytes.length !== upload.length) return answer({ ok: false, error: 'file_upload_size_mismatch' });
          messages.push({
            token,
            channel: channel.id,
            ts: nextTs(),
            thread_ts: (params.thread_ts as string | undefined) ?? null,
            text: '',
            blocks: [],
            file: { title: file!.title, filename: upload.filename, bytes: upload.bytes },
          });
          return answer({ ok: true, files: [{ id: file!.id, title: file!.title }] });
        }
        default:
          return answer({ ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** SLACK_API_URL for Burrow. */
    apiUrl: `${url}/api`,
    tokens,
    channels,
    messages,
    calls,
    failures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SlackServer = Awaited<ReturnType<typeof slackServer>>;
