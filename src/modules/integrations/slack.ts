/**
 * The slice of Slack's Web API Burrow uses (auth.test, conversations.list, chat.postMessage and the external file
 * upload), against SLACK_API_URL. Slack answers HTTP 200 with `{"ok": false, "error": code}` for most failures and
 * 429 with Retry-After when rate limited.
 */

const TIMEOUT_MS = 15_000;
/** conversations.list pages read at most (200 channels each). */
const MAX_CHANNEL_PAGES = 10;

/** Codes that say the token or the channel cannot be used again as they are: the subscription is broken. */
const BROKEN_CODES = new Set([
  'account_inactive',
  'channel_not_found',
  'ekm_access_denied',
  'invalid_auth',
  'is_archived',
  'missing_scope',
  'no_permission',
  'not_authed',
  'not_in_channel',
  'restricted_action',
  'team_access_not_granted',
  'token_expired',
  'token_revoked',
]);
/** Codes worth another try later. */
const TRANSIENT_CODES = new Set(['fatal_error', 'internal_error', 'ratelimited', 'request_timeout', 'service_unavailable']);

export class SlackApiError extends Error {
  override readonly name = 'SlackApiError';
  constructor(
    readonly method: string,
    readonly code: string,
  ) {
    super(`Slack ${method} failed: ${code}`);
  }

  /** The token or channel is gone (revoked, archived, the app removed): trying again will not help. */
  get broken(): boolean {
    return BROKEN_CODES.has(this.code);
  }

  get transient(): boolean {
    return TRANSIENT_CODES.has(this.code) || this.code.startsWith('http_5') || this.code === 'network_error';
  }
}

export interface SlackIdentity {
  teamId: string;
  teamName: string;
  url: string | null;
  userId: string | null;
  botId: string | null;
  /** The token's scopes, from the x-oauth-scopes header. */
  scopes: string | null;
}

export interface SlackChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_member: boolean;
  is_ext_shared: boolean;
}

export interface SlackMessage {
  channel: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
}

export interface SlackFile {
  channel: string;
  threadTs?: string;
  filename: string;
  title: string;
  altText: string;
  bytes: Buffer;
}

export type SlackClient = ReturnType<typeof createSlackClient>;

type Json = Record<string, unknown>;

export function createSlackClient(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');

  async function request(method: string, url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    try {
      return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new SlackApiError(method, timeout.aborted ? 'request_timeout' : 'network_error');
    }
  }

  /** One Web API call; JSON bodies, or form bodies for the methods that only take those. */
  async function call(token: string, method: string, params: Json, options: { form?: boolean; signal?: AbortSignal } = {}): Promise<{ body: Json; headers: Headers }> {
    const body = options.form
      ? new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, typeof value === 'string' ? value : JSON.stringify(value)]))
      : JSON.stringify(params);
    const response = await request(
      method,
      `${base}/${method}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json; charset=utf-8',
        },
        body,
      },
      options.signal,
    );
    if (response.status === 429) throw new SlackApiError(method, 'ratelimited');
    if (response.status >= 500) throw new SlackApiError(method, `http_${response.status}`);
    const parsed = (await response.json().catch(() => null)) as Json | null;
    if (!parsed || typeof parsed !== 'object') throw new SlackApiError(method, `http_${response.status}`);
    if (parsed.ok !== true) throw new SlackApiError(method, typeof parsed.error === 'string' ? parsed.error : 'unknown_error');
    return { body: parsed, headers: response.headers };
  }

  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

  return {
    /** Who the token is: its workspace and bot user. */
    async authTest(token: string): Promise<SlackIdentity> {
      const { body, headers } = await call(token, 'auth.test', {});
      return {
        teamId: text(body.team_id) ?? '',
        teamName: text(body.team) ?? '',
        url: text(body.url),
        userId: text(body.user_id),
        botId: text(body.bot_id),
        scopes: headers.get('x-oauth-scopes'),
      };
    },

    /** The workspace's channels that are not archived, public and private, in Slack's order. */
    async channels(token: string): Promise<SlackChannel[]> {
      const channels: SlackChannel[] = [];
      let cursor = '';
      for (let page = 0; page < MAX_CHANNEL_PAGES; page++) {
        const { body } = await call(token, 'conversations.list', {
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 200,
          ...(cursor && { cursor }),
        }, { form: true });
        for (const channel of Array.isArray(body.channels) ? (body.channels as Json[]) : []) {
          channels.push({
            id: String(channel.id),
            name: String(channel.name ?? ''),
            is_private: channel.is_private === true,
            is_member: channel.is_member === true,
            is_ext_shared: channel.is_ext_shared === true,
          });
        }
        cursor = text((body.response_metadata as Json | undefined)?.next_cursor) ?? '';
        if (!cursor) break;
      }
      return channels;
    },

    /** Posts a message; answers its ts (a thread's parent for replies). */
    async postMessage(token: string, message: SlackMessage, signal?: AbortSignal): Promise<string> {
      const { body } = await call(token, 'chat.postMessage', { ...message, unfurl_links: false }, { signal });
      return String(body.ts);
    },

    /** Slack's external upload: an upload URL, the bytes, then the file shared into the channel (or thread). */
    async uploadFile(token: string, file: SlackFile, signal?: AbortSignal): Promise<void> {
      const { body } = await call(token, 'files.getUploadURLExternal', { filename: file.filename, length: String(file.bytes.length), alt_text: file.altText }, { form: true, signal });
      const uploadUrl = text(body.upload_url);
      const fileId = text(body.file_id);
      if (!uploadUrl || !fileId) throw new SlackApiError('files.getUploadURLExternal', 'invalid_response');
      const upload = await request('files.upload', uploadUrl, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: file.bytes }, signal);
      if (!upload.ok) throw new SlackApiError('files.upload', `http_${upload.status}`);
      await call(
        token,
        'files.completeUploadExternal',
        { files: [{ id: fileId, title: file.title }], channel_id: file.channel, ...(file.threadTs && { thread_ts: file.threadTs }) },
        { form: true, signal },
      );
    },
  };
}
