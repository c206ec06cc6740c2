import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedFetch, GuardedFetchError, type GuardedRequest, type GuardedResponse } from '../../src/net/guarded-fetch.js';
import { createUrlGuard } from '../../src/net/url-guard.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  clientPort: number | undefined;
}

interface TestServer {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

async function listen(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString(), clientPort: req.socket.remotePort });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TEXT = 'Hello from the page. '.repeat(200);
let site: TestServer;
let other: TestServer;
let closedPort: number;

/** Resolves like a public DNS would, except every name here points at this machine. */
const lookup = async (hostname: string): Promise<string[]> => {
  const table: Record<string, string[]> = {
    'evil.test': ['127.0.0.1'],
    'site.test': ['127.0.0.1'],
    'pinned.test': ['127.0.0.1'],
    'multi.test': ['127.0.0.3', '127.0.0.1'],
  };
  const answer = table[hostname];
  if (!answer) throw new Error(`ENOTFOUND ${hostname}`);
  return answer;
};

const limits = { maxBytes: 1024 * 1024, timeoutMs: 5_000 };
const get = (url: string, headers: Record<string, string> = {}): GuardedRequest => ({ url, method: 'GET', headers });

function ok(response: GuardedResponse) {
  if (response.blocked) throw new Error(`unexpectedly blocked: ${response.reason}`);
  return response;
}

beforeAll(async () => {
  other = await listen((_req, res) => res.end('secret'));
  site = await listen((req, res, body) => {
    const path = (req.url ?? '').split('?')[0];
    switch (path) {
      case '/echo':
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('base64') }));
        return;
      case '/redirect':
        res.writeHead(302, { location: `http://127.0.0.1:${other.port}/secret` });
        res.end();
        return;
      case '/headers':
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
        res.setHeader('x-custom', 'yes');
        res.setHeader('keep-alive', 'timeout=5');
        res.setHeader('connection', 'keep-alive, x-private');
        res.setHeader('x-private', 'hop');
        res.setHeader('upgrade', 'h2c');
        res.write('chunk one, ');
        res.end('chunk two');
        return;
      case '/gzip':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(TEXT));
        return;
      case '/br':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'br' });
        res.end(zlib.brotliCompressSync(TEXT));
        return;
      case '/deflate':
        res.writeHead(200, { 'content-encoding': 'deflate' });
        res.end(zlib.deflateSync(TEXT));
        return;
      case '/deflate-raw':
        res.writeHead(200, { 'content-encoding': 'deflate' });
        res.end(zlib.deflateRawSync(TEXT));
        return;
      case '/zstd':
        res.writeHead(200, { 'content-encoding': 'zstd' });
        res.end(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
        return;
      case '/bomb':
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024)));
        return;
      case '/big':
        res.writeHead(200, { 'content-length': String(64 * 1024) });
        res.end(Buffer.alloc(64 * 1024, 'x'));
        return;
      case '/big-chunked':
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 'x'));
        res.end();
        return;
      case '/hang':
        return; // never answers
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first bytes'); // ...and never the rest
        return;
      case '/truncated':
        res.writeHead(200, { 'content-length': '100' });
        res.write('only ten b');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('nope');
        return;
      default:
        res.end('ok');
    }
  });
  const closed = await listen(() => {});
  closedPort = closed.port;
  await closed.close();
});

afterAll(async () => {
  await site?.close();
  await other?.close();
});

describe('guardedFetch', () => {
  const guard = createUrlGuard({ allowedHosts: ['127.0.0.1'], lookup });
  const base = () => `http://127.0.0.1:${site.port}`;

  it('makes a GET round trip with the browser’s headers, minus hop-by-hop ones, and the real Host', async () => {
    const response = ok(
      await guardedFetch(
        guard,
        get(`${base()}/echo?q=1#fragment`, {
          'user-agent': 'Burrow test',
          accept: 'application/json',
          'x-custom': 'from the browser',
          host: 'evil.example',
          connection: 'x-hop',
          'x-hop': 'must not pass',
          'proxy-authorization': 'Basic secret',
          'accept-encoding': 'gzip, deflate, br, zstd',
        }),
        limits,
      ),
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const echoed = JSON.parse(response.body.toString());
    expect(echoed).toMatchObject({ method: 'GET', url: '/echo?q=1', body: '' });
    expect(echoed.headers).toMatchObject({
      host: `127.0.0.1:${site.port}`,
      'user-agent': 'Burrow test',
      accept: 'application/json',
      'x-custom': 'from the browser',
      'accept-encoding': 'gzip, deflate, br',
    });
    expect(echoed.headers).not.toHaveProperty('x-hop');
    expect(echoed.headers).not.toHaveProperty('proxy-authorization');
  });

  it('makes a POST round trip with a body', async () => {
    const body = Buffer.from(JSON.stringify({ hello: 'world', bytes: [0, 255] }));
    const response = ok(
      await guardedFetch(
        guard,
        { url: `${base()}/echo`, method: 'post', headers: { 'content-type': 'application/json', 'content-length': '1' }, body },
        limits,
      ),
    );
    const echoed = JSON.parse(response.body.toString());
    expect(echoed.method).toBe('POST');
    expect(Buffer.from(echoed.body, 'base64').equals(body)).toBe(true);
    expect(echoed.headers['content-type']).toBe('application/json');
    expect(echoed.headers['content-length']).toBe(String(body.length));
  });

  it('passes statuses through and strips hop-by-hop response headers; set-cookie values are joined with \\n', async () => {
    const missing = ok(await guardedFetch(guard, get(`${base()}/missing`), limits));
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toBe('nope');

    const response = ok(await guardedFetch(guard, get(`${base()}/headers`), limits));
    expect(response.body.toString()).toBe('chunk one, chunk two');
    expect(response.headers['set-cookie']).toBe('a=1; Path=/\nb=2; HttpOnly');
    expect(response.headers['x-custom']).toBe('yes');
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'x-private', 'content-length']) {
      expect(response.headers, name).not.toHaveProperty(name);
    }

    const head = ok(await guardedFetch(guard, { url: `${base()}/big`, method: 'HEAD', headers: {} }, limits));
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('returns a redirect to loopback as it is, and the browser’s follow-up request is refused', async () => {
    const named = createUrlGuard({ allowedHosts: ['site.test'], lookup });
    const response = ok(await guardedFetch(named, get(`http://site.test:${site.port}/redirect`), limits));
    expect(response.status).toBe(302);
    const location = response.headers['location'];
    expect(location).toBe(`http://127.0.0.1:${other.port}/secret`);
    expect(other.seen).toHaveLength(0); // not followed

    expect(await guardedFetch(named, get(location ?? ''), limits)).toEqual({ blocked: true, reason: 'Local/Loopback host not allowed' });
    expect(await guardedFetch(named, get(`http://evil.test:${other.port}/secret`), limits)).toEqual({
      blocked: true,
      reason: 'Disallowed target IP: 127.0.0.1',
    });
    expect(other.seen).toHaveLength(0);
  });

  it('does not follow a redirect even when its target is allowed', async () => {
    const response = ok(await guardedFetch(guard, get(`${base()}/redirect`), limits));
    expect(response.status).toBe(302);
    expect(response.headers['location']).toBe(`http://127.0.0.1:${other.port}/secret`);
    expect(other.seen).toHaveLength(0);
  });

  it('blocks a host that is not listed but resolves to loopback, without sending anything', async () => {
    const before = site.seen.length;
    expect(await guardedFetch(guard, get(`http://evil.test:${site.port}/echo`), limits)).toEqual({
      blocked: true,
      reason: 'Disallowed target IP: 127.0.0.1',
    });
    expect(await guardedFetch(guard, get(`http://localhost:${site.port}/echo`), limits)).toEqual({
      blocked: true,
      reason: 'Local/Loopback host not allowed',
    });
    expect(await guardedFetch(guard, get('file:///etc/passwd'), limits)).toEqual({ blocked: true, reason: 'Disallowed scheme' });
    expect(site.seen.length).toBe(before);
  });

  it('connects to the address the guard vetted, with the URL’s host name in Host, and never resolves again', async () => {
    const calls: string[] = [];
    // pinned.test exists only in this resolver: reaching the server proves the connection used the vetted address.
    const pinned = createUrlGuard({
      allowedHosts: ['pinned.test', 'multi.test'],
      lookup: async (hostname) => {
        calls.push(hostname);
        return lookup(hostname);
      },
    });
    const response = ok(await guardedFetch(pinned, get(`http://pinned.test:${site.port}/echo`), limits));
    expect(JSON.parse(response.body.toString()).headers.host).toBe(`pinned.test:${site.port}`);
    expect(calls).toEqual(['pinned.test']);

    // Several vetted addresses are tried in order: nothing listens on 127.0.0.3, so the second one answers.
    const multi = ok(await guardedFetch(pinned, get(`http://multi.test:${site.port}/echo`), limits));
    expect(JSON.parse(multi.body.toString()).headers.host).toBe(`multi.test:${site.port}`);
  });

  it('ignores whatever DNS says after the check (rebinding)', async () => {
    // The first answer is the one vetted; any later one points at an unroutable address (TEST-NET-1) and would
    // time out if the connection resolved the name again.
    let answers = 0;
    const rebinding = createUrlGuard({
      allowedHosts: ['rebinding.example'],
      lookup: async () => (answers++ === 0 ? ['127.0.0.1'] : ['192.0.2.1']),
    });
    const response = ok(await guardedFetch(rebinding, get(`http://rebinding.example:${site.port}/echo`), { ...limits, timeoutMs: 2_000 }));
    expect(response.status).toBe(200);
    expect(answers).toBe(1);
  });

  it.each(['/gzip', '/br', '/deflate', '/deflate-raw'])('decodes %s and drops content-encoding', async (path) => {
    const response = ok(await guardedFetch(guard, get(`${base()}${path}`, { 'accept-encoding': 'gzip, deflate, br' }), limits));
    expect(response.body.toString()).toBe(TEXT);
    expect(response.headers).not.toHaveProperty('content-encoding');
    expect(response.headers).not.toHaveProperty('content-length');
  });

  it('passes an unknown content coding through untouched', async () => {
    const response = ok(await guardedFetch(guard, get(`${base()}/zstd`), limits));
    expect(response.headers['content-encoding']).toBe('zstd');
    expect([...response.body]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
  });

  it('enforces maxBytes on declared, streamed and decompressed bodies', async () => {
    const small = { maxBytes: 16 * 1024, timeoutMs: 5_000 };
    for (const path of ['/big', '/big-chunked', '/bomb']) {
      const error = await guardedFetch(guard, get(`${base()}${path}`), small).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(GuardedFetchError);
      expect((error as Error).message).toBe('Response body larger than 16384 bytes');
    }
    // the cap itself is allowed
    const exact = ok(await guardedFetch(guard, get(`${base()}/big`), { maxBytes: 64 * 1024, timeoutMs: 5_000 }));
    expect(exact.body.length).toBe(64 * 1024);
  });

  it('enforces the timeout while waiting for headers and while reading the body', async () => {
    for (const path of ['/hang', '/slow-body']) {
      const started = Date.now();
      const error = await guardedFetch(guard, get(`${base()}${path}`), { maxBytes: 1024, timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(GuardedFetchError);
      expect(error).toMatchObject({ code: 'timedout', message: 'Request timed out after 300 ms' });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await guardedFetch(guard, get(`${base()}/hang`), { ...limits, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'aborted', message: 'Request aborted' });

    const already = AbortSignal.abort();
    await expect(guardedFetch(guard, get(`${base()}/echo`), { ...limits, signal: already })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('throws a short error for a refused connection and a cut-off body', async () => {
    await expect(guardedFetch(guard, get(`http://127.0.0.1:${closedPort}/`), limits)).rejects.toMatchObject({
      code: 'connectionrefused',
      message: 'Connection refused',
    });
    await expect(guardedFetch(guard, get(`${base()}/truncated`), limits)).rejects.toBeInstanceOf(GuardedFetchError);
  });

  it('reuses kept-alive connections across requests', async () => {
    for (let i = 0; i < 3; i++) ok(await guardedFetch(guard, get(`${base()}/echo`), limits));
    const recent = site.seen.slice(-3);
    expect(new Set(recent.map((s) => s.clientPort)).size).toBe(1);
  });

  it('sends again on a new connection when a kept-alive one turns out to be closed', async () => {
    // A raw server: on its first connection it answers one request, then resets the connection when the next
    // request arrives, as a server does when its idle timeout fires just as the client reuses the connection.
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const connection = ++connections;
      let requests = 0;
      socket.on('data', () => {
        requests++;
        if (connection === 1 && requests === 2) return socket.resetAndDestroy();
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: keep-alive\r\n\r\n${connection}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      expect(ok(await guardedFetch(guard, get(url), limits)).body.toString()).toBe('1');
      expect(ok(await guardedFetch(guard, { url, method: 'POST', headers: {}, body: Buffer.from('x') }, limits)).body.toString()).toBe('2');
      expect(connections).toBe(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses methods a page cannot send, and does not cap the declared length of a HEAD response', async () => {
    await expect(guardedFetch(guard, { url: `${base()}/echo`, method: 'CONNECT', headers: {} }, limits)).rejects.toMatchObject({
      message: 'Method CONNECT not allowed',
    });
    const head = ok(await guardedFetch(guard, { url: `${base()}/big`, method: 'HEAD', headers: {} }, { maxBytes: 1024, timeoutMs: 5_000 }));
    expect(head.status).toBe(200);
  });

  it('speaks TLS to the vetted address with the URL’s name for SNI and verifies the certificate', async (ctx) => {
    const credentials = selfSignedCertificate('secure.test');
    if (!credentials) return ctx.skip('no openssl binary to make a certificate with');
    const servernames: string[] = [];
    const server = https.createServer(
      {
        ...credentials,
        SNICallback: (servername, callback) => {
          servernames.push(servername);
          callback(null, tls.createSecureContext(credentials));
        },
      },
      (_req, res) => res.end('should not be reached'),
    );
    server.on('tlsClientError', () => {}); // the client hangs up on the untrusted certificate
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const secure = createUrlGuard({ allowedHosts: ['secure.test'], lookup: async () => ['127.0.0.1'] });
      const error = await guardedFetch(secure, get(`https://secure.test.:${port}/`), limits).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GuardedFetchError);
      expect((error as Error).message).toMatch(/^TLS error: self[- ]signed certificate/);
      // The ClientHello named secure.test (without the root dot), though the connection went to 127.0.0.1.
      expect(servernames).toEqual(['secure.test']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** A throw-away key and self-signed certificate, made with the openssl binary; null when there is none. */
function selfSignedCertificate(name: string): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
        '-addext', `subjectAltName=DNS:${name}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
