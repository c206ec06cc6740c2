import { afterEach, describe, expect, it, vi } from 'vitest';
import { createUrlGuard, INTERNAL_DOMAIN_SUFFIXES, type UrlVerdict } from '../../src/net/url-guard.js';

/** A fake resolver: public-looking names that point wherever a test needs them to. */
const DNS: Record<string, string[]> = {
  'example.com': ['93.184.215.14'],
  'v6.example.com': ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', '93.184.215.14'],
  'nat64-public.example.com': ['64:ff9b::5db8:d70e'],
  'rebind.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'nat64.example.com': ['64:ff9b::a00:1'],
  'ula.example.com': ['fd12:3456::1'],
  'linklocal.example.com': ['fe80::1%eth0'],
  'cgnat.example.com': ['100.64.1.1'],
  'zero.example.com': ['0.0.0.0'],
  'intranet.example.com': ['10.1.2.3'],
  'empty.example.com': [],
  'garbage.example.com': ['not-an-address'],
  'wiki.corp': ['10.1.2.3'],
  localhost: ['127.0.0.1', '::1'],
};

function fakeDns() {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<string[]> => {
    calls.push(hostname);
    const answer = DNS[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return { calls, lookup };
}

const reasonOf = (verdict: UrlVerdict) => (verdict.allowed ? 'allowed' : verdict.reason);

describe('URL guard: refused forms', () => {
  const dns = fakeDns();
  const guard = createUrlGuard({ allowedHosts: [], lookup: dns.lookup });
  afterEach(() => {
    dns.calls.length = 0;
  });

  const LOOPBACK = 'Local/Loopback host not allowed';
  const PRIVATE = 'Private IP address not allowed';
  const METADATA = 'Local/metadata host';

  it.each([
    // schemes
    ['ftp://example.com/file', 'Disallowed scheme'],
    ['FTP://example.com/file', 'Disallowed scheme'],
    ['file:///etc/passwd', 'Disallowed scheme'],
    ['javascript:alert(1)', 'Disallowed scheme'],
    ['data:text/html,<h1>hi</h1>', 'Disallowed scheme'],
    ['ws://example.com/', 'Disallowed scheme'],
    ['gopher://example.com/', 'Disallowed scheme'],
    ['blob:https://example.com/uuid', 'Disallowed scheme'],
    // missing host, and what does not parse
    ['http://', 'Missing host'],
    ['http:///example.com/', 'Missing host'],
    ['https:example.com', 'Missing host'],
    ['http:/example.com', 'Missing host'],
    ['http://?q=1', 'Missing host'],
    ['http://./', 'Missing host'],
    ['', 'Invalid URL'],
    ['not a url', 'Invalid URL'],
    ['//example.com/', 'Invalid URL'],
    ['http://exa mple.com/', 'Invalid URL'],
    ['http://[::1/', 'Invalid URL'],
    ['http://1.2.3.4.5/', 'Invalid URL'],
    ['http://256.0.0.1/', 'Invalid URL'],
    // localhost, in every case and with the root dot
    ['http://localhost/', LOOPBACK],
    ['http://LOCALHOST:8000/', LOOPBACK],
    ['http://localhost./', LOOPBACK],
    ['http://LocalHost../', LOOPBACK],
    ['http://app.localhost/', LOOPBACK],
    ['http://a.b.LOCALHOST./', LOOPBACK],
    ['http://ｌｏｃａｌｈｏｓｔ/', LOOPBACK], // full-width, folded by IDNA
    ['  http://localhost/  ', LOOPBACK],
    ['http://user:pass@localhost/', LOOPBACK],
    // 127.0.0.0/8 in every spelling the URL parser accepts
    ['http://127.0.0.1/', LOOPBACK],
    ['https://127.0.0.1:8443/x', LOOPBACK],
    ['http://127.1/', LOOPBACK],
    ['http://127.0.1/', LOOPBACK],
    ['http://2130706433/', LOOPBACK],
    ['http://0177.0.0.1/', LOOPBACK],
    ['http://0177.1/', LOOPBACK],
    ['http://0x7f.1/', LOOPBACK],
    ['http://0x7f000001/', LOOPBACK],
    ['http://0X7F.0.0.1/', LOOPBACK],
    ['http://017700000001/', LOOPBACK],
    ['http://127.0.0.1./', LOOPBACK],
    ['http://127.0.0.%31/', LOOPBACK],
    ['http://127.255.255.254/', LOOPBACK],
    ['http://example.com@127.0.0.1/', LOOPBACK],
    ['http://127.0.0.1\\@example.com/', LOOPBACK],
    ['http://[::1]/', LOOPBACK],
    ['http://[0:0:0:0:0:0:0:1]:8080/', LOOPBACK],
    ['http://[::ffff:127.0.0.1]/', LOOPBACK],
    ['http://[::ffff:7f00:1]/', LOOPBACK],
    ['http://[0:0:0:0:0:ffff:127.0.0.2]/', LOOPBACK],
    ['http://[64:ff9b::127.0.0.1]/', LOOPBACK],
    // unspecified
    ['http://0.0.0.0/', PRIVATE],
    ['http://0/', PRIVATE],
    ['http://0x0/', PRIVATE],
    ['http://[::]/', PRIVATE],
    ['http://[::ffff:0.0.0.0]/', PRIVATE],
    // private, shared, link-local, reserved, multicast, broadcast
    ['http://10.0.0.1/', PRIVATE],
    ['http://10.255.255.255/', PRIVATE],
    ['http://012.0.0.1/', PRIVATE],
    ['http://167772161/', PRIVATE],
    ['http://172.16.0.1/', PRIVATE],
    ['http://172.31.255.255/', PRIVATE],
    ['http://192.168.1.1/', PRIVATE],
    ['http://0xc0a80001/', PRIVATE],
    ['http://3232235521/', PRIVATE],
    ['http://169.254.1.1/', PRIVATE],
    ['http://169.254.170.2/', PRIVATE],
    ['http://100.64.0.1/', PRIVATE],
    ['http://100.127.255.255/', PRIVATE],
    ['http://100.100.100.200/', PRIVATE],
    ['http://198.18.0.1/', PRIVATE],
    ['http://198.19.255.255/', PRIVATE],
    ['http://192.0.0.1/', PRIVATE],
    ['http://192.0.0.255/', PRIVATE],
    ['http://192.0.2.1/', PRIVATE],
    ['http://224.0.0.1/', PRIVATE],
    ['http://239.255.255.250/', PRIVATE],
    ['http://240.0.0.1/', PRIVATE],
    ['http://255.255.255.255/', PRIVATE],
    ['http://[::ffff:10.0.0.1]/', PRIVATE],
    ['http://[::ffff:192.168.0.1]/', PRIVATE],
    // metadata services
    ['http://169.254.169.254/latest/meta-data/', METADATA],
    ['http://2852039166/', METADATA],
    ['http://0xa9fea9fe/', METADATA],
    ['http://0251.0376.0251.0376/', METADATA],
    ['http://[::ffff:169.254.169.254]/', METADATA],
    ['http://[fd00:ec2::254]/', METADATA],
    ['http://metadata.google.internal/computeMetadata/v1/', METADATA],
    ['http://METADATA.google.internal./', METADATA],
    // IPv6 outside the public unicast space
    ['http://[fc00::1]/', PRIVATE],
    ['http://[fd12:3456:789a::1]/', PRIVATE],
    ['http://[fe80::1]/', PRIVATE],
    ['http://[febf:ffff::1]/', PRIVATE],
    ['http://[fec0::1]/', PRIVATE],
    ['http://[ff02::1]/', PRIVATE],
    ['http://[ff05::1:3]/', PRIVATE],
    ['http://[::127.0.0.1]/', PRIVATE], // IPv4-compatible (deprecated)
    ['http://[::8.8.8.8]/', PRIVATE],
    ['http://[64:ff9b::10.0.0.1]/', PRIVATE], // NAT64 to a private IPv4 address
    ['http://[64:ff9b::a9fe:a9fe]/', METADATA],
    ['http://[64:ff9b:1::a00:1]/', PRIVATE], // local-use NAT64
    ['http://[100::1]/', PRIVATE],
    ['http://[2001:db8::1]/', PRIVATE],
    ['http://[2001::1]/', PRIVATE], // Teredo
    ['http://[2002:7f00:1::1]/', PRIVATE], // 6to4 of 127.0.0.1
  ])('%s → %s', async (url, reason) => {
    expect(reasonOf(await guard.check(url))).toBe(reason);
    expect(dns.calls).toEqual([]); // refused on its form, before any lookup
  });

  it('refuses each internal domain suffix, naming the first that matches in PostHog’s order', async () => {
    const cases: [string, string][] = [
      ['printer.local', '.local'],
      ['api.internal', '.internal'],
      ['web.default.svc.cluster.local', '.local'],
      ['web.cluster.local', '.local'],
      ['vault.service.consul', '.consul'],
      ['nas.lan', '.lan'],
      ['router.home', '.home'],
      ['wiki.corp', '.corp'],
      ['box.localdomain', '.localdomain'],
      ['hub.home.arpa', '.home.arpa'],
      ['portal.intranet', '.intranet'],
      ['db.priv', '.priv'],
      ['WIKI.CORP.', '.corp'],
      ['Api.Internal:8443', '.internal'],
    ];
    const named = new Set(cases.map(([, suffix]) => suffix));
    // Every suffix in the list is exercised, either by itself or, for the longer *.local ones, through ".local".
    expect(INTERNAL_DOMAIN_SUFFIXES.filter((s) => !named.has(s) && !s.endsWith('.local'))).toEqual([]);
    for (const [host, suffix] of cases) {
      expect(reasonOf(await guard.check(`https://${host}/path`)), host).toBe(`Internal domain pattern blocked: ${suffix}`);
    }
    expect(dns.calls).toEqual([]);
  });

  it.each([
    ['http://rebind.example.com/', 'Disallowed target IP: 127.0.0.1'],
    ['http://REBIND.example.com.:8080/', 'Disallowed target IP: 127.0.0.1'],
    ['http://mixed.example.com/', 'Disallowed target IP: 10.0.0.7'],
    ['http://metadata.example.com/', 'Disallowed target IP: 169.254.169.254'],
    ['http://mapped.example.com/', 'Disallowed target IP: ::ffff:7f00:1'],
    ['http://nat64.example.com/', 'Disallowed target IP: 64:ff9b::a00:1'],
    ['http://ula.example.com/', 'Disallowed target IP: fd12:3456::1'],
    ['http://linklocal.example.com/', 'Disallowed target IP: fe80::1'],
    ['http://cgnat.example.com/', 'Disallowed target IP: 100.64.1.1'],
    ['http://zero.example.com/', 'Disallowed target IP: 0.0.0.0'],
    ['http://no-such-host.example/', 'Could not resolve host'],
    ['http://empty.example.com/', 'Could not resolve host'],
    ['http://garbage.example.com/', 'Could not resolve host'],
  ])('checks what a name resolves to: %s → %s', async (url, reason) => {
    expect(reasonOf(await guard.check(url))).toBe(reason);
    expect(dns.calls).toHaveLength(1);
  });

  it('marks only a name that did not resolve as unresolved, with its host, so create can let it through', async () => {
    expect(await guard.check('http://NO-SUCH-HOST.example./')).toEqual({
      allowed: false,
      reason: 'Could not resolve host',
      unresolved: { host: 'no-such-host.example' },
    });
    for (const url of ['http://rebind.example.com/', 'http://10.0.0.1/', 'http://printer.corp/', 'http://localhost/']) {
      const verdict = await guard.check(url);
      expect(verdict.allowed, url).toBe(false);
      expect(verdict, url).not.toHaveProperty('unresolved');
    }
  });

  it('refuses a lookup that throws synchronously or never answers', async () => {
    const throwing = createUrlGuard({
      allowedHosts: [],
      lookup: () => {
        throw new Error('boom');
      },
    });
    expect(reasonOf(await throwing.check('http://example.com/'))).toBe('Could not resolve host');

    vi.useFakeTimers();
    try {
      const hanging = createUrlGuard({ allowedHosts: [], lookup: () => new Promise<string[]>(() => {}) });
      const verdict = hanging.check('http://example.com/');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(reasonOf(await verdict)).toBe('Could not resolve host');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('URL guard: allowed targets', () => {
  it('lets a public IP literal through without a lookup, and returns it as the address to connect to', async () => {
    const dns = fakeDns();
    const guard = createUrlGuard({ allowedHosts: [], lookup: dns.lookup });
    for (const [url, address] of [
      ['http://93.184.215.14/', '93.184.215.14'],
      ['https://1.1.1.1:8443/dns-query', '1.1.1.1'],
      ['http://1572394766/', '93.184.215.14'],
      ['http://[2606:4700:4700::1111]/', '2606:4700:4700::1111'],
      ['http://[::ffff:93.184.215.14]/', '::ffff:5db8:d70e'],
      ['http://[64:ff9b::93.184.215.14]/', '64:ff9b::5db8:d70e'],
      // the edges of refused ranges
      ['http://100.63.255.255/', '100.63.255.255'],
      ['http://100.128.0.0/', '100.128.0.0'],
      ['http://172.15.255.255/', '172.15.255.255'],
      ['http://172.32.0.0/', '172.32.0.0'],
      ['http://198.17.255.255/', '198.17.255.255'],
      ['http://198.20.0.0/', '198.20.0.0'],
      ['http://223.255.255.255/', '223.255.255.255'],
      ['http://11.0.0.0/', '11.0.0.0'],
      ['http://126.255.255.255/', '126.255.255.255'],
      ['http://128.0.0.0/', '128.0.0.0'],
    ] as const) {
      const verdict = await guard.check(url);
      expect(verdict, url).toMatchObject({ allowed: true, addresses: [address] });
    }
    expect(dns.calls).toEqual([]);
  });

  it('lets a public name through with every address it resolves to', async () => {
    const dns = fakeDns();
    const guard = createUrlGuard({ allowedHosts: [], lookup: dns.lookup });
    const verdict = await guard.check('https://Example.COM./page?q=1#top');
    expect(verdict.allowed).toBe(true);
    if (!verdict.allowed) return;
    expect(verdict.url.href).toBe('https://example.com./page?q=1#top');
    expect(verdict.addresses).toEqual(['93.184.215.14']);
    expect(dns.calls).toEqual(['example.com']);

    expect(await guard.check('http://v6.example.com/')).toMatchObject({
      allowed: true,
      addresses: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', '93.184.215.14'],
    });
    expect(await guard.check('http://nat64-public.example.com/')).toMatchObject({ allowed: true, addresses: ['64:ff9b::5db8:d70e'] });
  });

  it('uses the system resolver by default', async () => {
    // /etc/hosts answers for localhost (listed here, so the name check does not stop it before the lookup).
    const verdict = await createUrlGuard({ allowedHosts: ['localhost'] }).check('http://localhost/');
    expect(verdict.allowed).toBe(true);
    if (verdict.allowed) expect(verdict.addresses.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
    expect(reasonOf(await createUrlGuard({ allowedHosts: [] }).check('http://no-such-host.invalid/'))).toBe('Could not resolve host');
  });
});

describe('URL guard: RENDER_ALLOWED_HOSTS', () => {
  it('lets a listed IP address through in any spelling, and only that address', async () => {
    const dns = fakeDns();
    const guard = createUrlGuard({ allowedHosts: ['127.0.0.1', '::1'], lookup: dns.lookup });
    for (const url of ['http://127.0.0.1:8080/', 'http://2130706433/', 'http://0x7f.1/', 'http://[::1]/', 'http://[0::1]:3000/']) {
      expect(await guard.check(url), url).toMatchObject({ allowed: true });
    }
    expect(await guard.check('http://[::ffff:127.0.0.1]/')).toEqual({ allowed: false, reason: 'Local/Loopback host not allowed' });
    expect(await guard.check('http://127.0.0.2/')).toEqual({ allowed: false, reason: 'Local/Loopback host not allowed' });
    expect(await guard.check('http://10.0.0.1/')).toEqual({ allowed: false, reason: 'Private IP address not allowed' });
  });

  it('does not open names that resolve to a listed IP address, and keeps the name checks', async () => {
    const dns = fakeDns();
    const guard = createUrlGuard({ allowedHosts: ['10.1.2.3', '127.0.0.1'], lookup: dns.lookup });
    expect(await guard.check('http://10.1.2.3/')).toMatchObject({ allowed: true, addresses: ['10.1.2.3'] });
    expect(reasonOf(await guard.check('http://intranet.example.com/'))).toBe('Disallowed target IP: 10.1.2.3');
    expect(reasonOf(await guard.check('http://rebind.example.com/'))).toBe('Disallowed target IP: 127.0.0.1');
    expect(reasonOf(await guard.check('http://wiki.corp/'))).toBe('Internal domain pattern blocked: .corp');
    expect(reasonOf(await guard.check('http://localhost/'))).toBe('Local/Loopback host not allowed');
  });

  it('lets a listed name through without checking its addresses, and nothing else', async () => {
    const dns = fakeDns();
    const guard = createUrlGuard({ allowedHosts: ['wiki.corp', 'localhost', 'no-dns.lan'], lookup: dns.lookup });
    expect(await guard.check('https://wiki.corp/page')).toMatchObject({ allowed: true, addresses: ['10.1.2.3'] });
    expect(await guard.check('http://WIKI.corp./')).toMatchObject({ allowed: true, addresses: ['10.1.2.3'] });
    expect(await guard.check('http://localhost:3000/')).toMatchObject({ allowed: true, addresses: ['127.0.0.1', '::1'] });
    // still resolved: a listed name that does not resolve has nothing to connect to
    expect(reasonOf(await guard.check('http://no-dns.lan/'))).toBe('Could not resolve host');
    // the scheme rule is not lifted
    expect(reasonOf(await guard.check('ftp://wiki.corp/'))).toBe('Disallowed scheme');
    // neighbours are not listed
    expect(reasonOf(await guard.check('http://other.corp/'))).toBe('Internal domain pattern blocked: .corp');
    expect(reasonOf(await guard.check('http://sub.wiki.corp/'))).toBe('Internal domain pattern blocked: .corp');
    expect(reasonOf(await guard.check('http://app.localhost/'))).toBe('Local/Loopback host not allowed');
    expect(reasonOf(await guard.check('http://127.0.0.1/'))).toBe('Local/Loopback host not allowed');
    expect(reasonOf(await guard.check('http://rebind.example.com/'))).toBe('Disallowed target IP: 127.0.0.1');
  });

  it('normalizes entries and refuses ones that are not a host', () => {
    expect(() => createUrlGuard({ allowedHosts: ['[fd00::5]', 'Wiki.Corp.', '2130706433', 'xn--bcher-kva.example'] })).not.toThrow();
    for (const entry of ['http://wiki.corp/', 'wiki.corp:8080', '*.corp', 'wiki.corp/path', 'user@wiki.corp', '10.0.0.0/8', 'a b']) {
      expect(() => createUrlGuard({ allowedHosts: [entry] }), entry).toThrow(/RENDER_ALLOWED_HOSTS/);
    }
  });
});
