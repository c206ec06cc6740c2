import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { accessTable, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';
import { record } from '../recordings/fixtures.js';

const FIELDS = ['created_at', 'enabled', 'access_token', 'settings', 'password_required', 'share_passwords'];
const TOKEN = /^[A-Za-z0-9_-]{30}$/;

describe('sharing a recording', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;
  const url = (recording: string, path = '') => `/api/projects/${owner.teamId}/session_recordings/${recording}/sharing/${path}`;

  beforeAll(async () => {
    ctx = await createTestContext({ SHARING_TOKEN_GRACE_PERIOD_SECONDS: '120' });
    make = factories(ctx);
    owner = await make.tenant();
  });
  afterAll(() => ctx.close());

  it('answers an unsaved default with a new token on every GET until the share is saved', async () => {
    const first = ok(await owner.call('GET', url('never-shared')));
    expect(Object.keys(first)).toEqual(FIELDS);
    expect(first).toMatchObject({ created_at: null, enabled: false, settings: null, password_required: false, share_passwords: [] });
    expect(first.access_token).toMatch(TOKEN);
    expect(ok(await owner.call('GET', url('never-shared'))).access_token).not.toBe(first.access_token);
  });

  it('saves on PATCH: enabled, settings (unknown keys and nulls dropped, wrong types refused) and password_required', async () => {
    const saved = ok(await owner.call('PATCH', url('rec-1'), { enabled: true, settings: { showInspector: true, theme: 'dark', colour: 'red', noHeader: null } }));
    expect(saved).toMatchObject({ enabled: true, settings: { showInspector: true, theme: 'dark' }, password_required: false });
    expect(saved.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(ok(await owner.call('GET', url('rec-1')))).toEqual(saved);
    expect(ok(await owner.call('PATCH', url('rec-1'), { enabled: false }))).toMatchObject({ enabled: false, access_token: saved.access_token, settings: { showInspector: true, theme: 'dark' } });
    for (const settings of [{ noHeader: 'yes' }, { theme: 'blue' }, ['showInspector'], 'on']) {
      expectError(await owner.call('PATCH', url('rec-1'), { settings }), 400, invalid('Invalid settings format', 'settings'));
    }
    expect(ok(await owner.call('PATCH', url('rec-1'), { settings: null })).settings).toBeNull();
  });

  it('makes one share of two first PATCHes at once', async () => {
    const [a, b] = await Promise.all([owner.call('PATCH', url('rec-race'), { enabled: true }), owner.call('PATCH', url('rec-race'), { password_required: true })]);
    expect(ok(a).access_token).toBe(ok(b).access_token);
    const rows = await queryRows(ctx.database.db, sql`select id from sharing_configurations where recording_id = 'rec-race'`);
    expect(rows).toHaveLength(1);
  });

  it('rotates the token on refresh: the old one keeps working for the grace period, settings and passwords carry over', async () => {
    ok(await owner.call('PATCH', url('rec-2'), { enabled: true, settings: { whitelabel: true }, password_required: true }));
    const before = ok(await owner.call('GET', url('rec-2')));
    ok(await owner.call('POST', url('rec-2', 'passwords/'), { raw_password: 'correct horse', note: 'for the client' }), 201);
    const after = ok(await owner.call('POST', url('rec-2', 'refresh/')));
    expect(after.access_token).toMatch(TOKEN);
    expect(after.access_token).not.toBe(before.access_token);
    expect(after).toMatchObject({ enabled: true, settings: { whitelabel: true }, password_required: true });
    expect(after.share_passwords.map((p: { note: string }) => p.note)).toEqual(['for the client']);
    const [old] = await queryRows<{ seconds: number }>(
      ctx.database.db,
      sql`select extract(epoch from expires_at - now())::int as seconds from sharing_configurations where access_token = ${before.access_token}`,
    );
    expect(Number(old!.seconds)).toBeGreaterThan(100);
    expect(Number(old!.seconds)).toBeLessThanOrEqual(120);
    expect(ok(await owner.call('GET', url('rec-2'))).access_token).toBe(after.access_token);
  });

  it('adds passwords only once password_required is on, shows each once, and deactivates them on DELETE', async () => {
    expect((await owner.call('POST', url('rec-3', 'passwords/'), {})).json()).toEqual({ error: 'Password protection must be enabled before creating passwords' });
    expect((await owner.call('POST', url('rec-3', 'passwords/'), {})).statusCode).toBe(400);
    ok(await owner.call('PATCH', url('rec-3'), { password_required: true }));
    const generated = ok(await owner.call('POST', url('rec-3', 'passwords/'), { note: 'team' }), 201);
    expect(Object.keys(generated)).toEqual(['id', 'password', 'note', 'created_at', 'created_by_email']);
    expect(generated).toMatchObject({ note: 'team', created_by_email: owner.user.email });
    expect(generated.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await owner.call('POST', url('rec-3', 'passwords/'), { raw_password: 'short' })).statusCode).toBe(400);
    const listed = ok(await owner.call('GET', url('rec-3'))).share_passwords;
    expect(listed).toEqual([{ id: generated.id, created_at: generated.created_at, note: 'team', created_by_email: owner.user.email, is_active: true }]);
    const [stored] = await queryRows<{ password_hash: string }>(ctx.database.db, sql`select password_hash from share_passwords where id = ${generated.id}`);
    expect(stored!.password_hash.startsWith('scrypt$')).toBe(true);
    expect(stored!.password_hash).not.toContain(generated.password);

    expect((await owner.call('DELETE', url('rec-3', `passwords/${generated.id}/`))).statusCode).toBe(204);
    expect(ok(await owner.call('GET', url('rec-3'))).share_passwords).toEqual([]);
    for (const id of [generated.id, 'abc', 999999]) expectError(await owner.call('DELETE', url('rec-3', `passwords/${id}/`)), 404, notFound('Password not found'));
  });

  describe('the share link’s token (?sharing_access_token=)', () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - 3600_000 + 250;
    let token: string;
    const recordingUrl = (recording: string, path = '', teamId = owner.teamId) => `/api/projects/${teamId}/session_recordings/${recording}/${path}`;
    const asShare = (path: string, shareToken = token, method: 'GET' | 'PATCH' | 'DELETE' = 'GET') =>
      ctx.app.inject({ method, url: `${path}${path.includes('?') ? '&' : '?'}sharing_access_token=${shareToken}` });
    const refused = (detail: string) => ({ type: 'authentication_error', code: 'authentication_failed', detail, attr: null });

    beforeAll(async () => {
      const projectToken = await make.projectToken(owner);
      for (const sessionId of ['shared-1', 'private-1']) await record(ctx, projectToken, { sessionId, distinctId: 'v', start, durationSeconds: 42, url: 'https://shop.example.com/' });
      token = ok(await owner.call('PATCH', url('shared-1'), { enabled: true })).access_token;
    });

    it('reads its recording (only id, duration, start and end) and its snapshots, with GET only', async () => {
      expect(ok(await asShare(recordingUrl('shared-1')))).toEqual({
        id: 'shared-1',
        recording_duration: 42,
        start_time: new Date(start).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        end_time: new Date(start + 42_000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
      });
      const { sources } = ok(await asShare(recordingUrl('shared-1', 'snapshots/')));
      expect(sources).toHaveLength(1);
      const blocks = await asShare(recordingUrl('shared-1', 'snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=0'));
      expect(blocks.statusCode).toBe(200);
      expect(JSON.parse(blocks.body.split('\n')[0]!)[1]).toMatchObject({ type: 4 });
      expect(ok(await asShare(`/api/projects/@current/session_recordings/shared-1/`)).id).toBe('shared-1');
    });

    it('reads nothing else: another recording, the list, a write, another project', async () => {
      expectError(await asShare(recordingUrl('private-1')), 403, { type: 'authentication_error', code: 'permission_denied', detail: 'You do not have permission to perform this action.', attr: null });
      expectError(await asShare(recordingUrl('private-1', 'snapshots/')), 403, { type: 'authentication_error', code: 'permission_denied', detail: 'You do not have permission to perform this action.', attr: null });
      expect((await asShare(`/api/projects/${owner.teamId}/session_recordings/`)).statusCode).toBe(401);
      expect((await asShare(recordingUrl('shared-1', 'sharing/'))).statusCode).toBe(401);
      expect((await asShare(recordingUrl('shared-1'), token, 'PATCH')).statusCode).toBe(401);
      expect((await asShare(recordingUrl('shared-1'), token, 'DELETE')).statusCode).toBe(401);
      const other = await make.tenant();
      expect((await asShare(recordingUrl('shared-1', '', other.teamId))).statusCode).toBe(403);
      expectError(await asShare(recordingUrl('shared-1'), 'not-a-token'), 401, refused('Sharing access token is invalid.'));
    });

    it('stops working when the share is turned off, needs the unlock step when it has a password, and outlives a rotation only by the grace period', async () => {
      ok(await owner.call('PATCH', url('shared-1'), { enabled: false }));
      expectError(await asShare(recordingUrl('shared-1')), 401, refused('Sharing access token is invalid.'));
      ok(await owner.call('PATCH', url('shared-1'), { enabled: true, password_required: true }));
      expectError(await asShare(recordingUrl('shared-1')), 401, refused('Sharing access token is invalid.'));
      ok(await owner.call('PATCH', url('shared-1'), { password_required: false }));
      ok(await asShare(recordingUrl('shared-1')));

      const rotated = ok(await owner.call('POST', url('shared-1', 'refresh/'))).access_token;
      ok(await asShare(recordingUrl('shared-1')));
      ok(await asShare(recordingUrl('shared-1'), rotated));
      await ctx.database.db.execute(sql`update sharing_configurations set expires_at = now() - interval '1 second' where access_token = ${token}`);
      expectError(await asShare(recordingUrl('shared-1')), 401, refused('Sharing access token is invalid.'));
      ok(await asShare(recordingUrl('shared-1'), rotated));
    });
  });

  accessTable(
    () => ctx,
    teamRows([
      {
        method: 'GET',
        path: '/session_recordings/:id/sharing/',
        scope: 'sharing_configuration:read',
        // A saved share, so that every authorized caller gets the same answer (an unsaved one has a new token each time).
        object: async (tenant) => {
          ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/session_recordings/saved-rec/sharing/`, { enabled: true }));
          return { id: 'saved-rec' };
        },
        status: 200,
        foreignObject: 200,
      },
      { method: 'PATCH', path: '/session_recordings/shared-rec/sharing/', scope: 'sharing_configuration:write', body: { enabled: true }, status: 200 },
      { method: 'POST', path: '/session_recordings/shared-rec/sharing/refresh/', scope: 'sharing_configuration:write', status: 200 },
      { method: 'POST', path: '/session_recordings/other-rec/sharing/passwords/', scope: 'sharing_configuration:write', status: 400 },
      { method: 'DELETE', path: '/session_recordings/shared-rec/sharing/passwords/1/', scope: 'sharing_configuration:write', status: 404 },
    ]),
  );
});
