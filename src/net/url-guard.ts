import { lookup as dnsLookup } from 'node:dns/promises';
import { classifyIp, parseIp, type IpKind, type ParsedIp } from './ip.js';

/**
 * The SSRF guard: the one check every URL the server fetches passes through (heatmap create, each navigation,
 * redirect and sub-request of a render). Messages are PostHog's (`posthog/security/url_validation.py`, spec
 * heatmaps.md §2.2), with these differences, all stricter:
 *
 * - The URL is parsed with the WHATWG parser, the one Chromium follows, and every check runs on its normalized
 *   host: `http://2130706433/`, `http://0177.0.0.1/`, `http://0x7f.1/`, `http://127.0.0.1./`, percent-encoded and
 *   full-width spellings all become `127.0.0.1`/`localhost` before they are judged.
 * - Host names are compared lower-case and without trailing dots; `*.localhost` is loopback.
 * - Every address a name resolves to must be public (see ip.ts for the ranges: RFC 6890 special-purpose IPv4
 *   including CGNAT, benchmarking and 240/4; IPv6 outside 2000::/3; IPv4-mapped and NAT64 judged by the embedded
 *   IPv4 address). A name that does not resolve is refused ("Could not resolve host", with `unresolved` set, so
 *   that a caller that only stores the URL for later, as heatmap create does, can let it through as PostHog does;
 *   nothing is ever fetched from a name that did not resolve).
 * - The verdict carries the vetted addresses, so the caller connects to exactly those (guarded-fetch.ts) and a DNS
 *   answer that changes between check and connect (rebinding) cannot reach another address.
 *
 * Allow-list (RENDER_ALLOWED_HOSTS): exact entries, no wildcards or ranges, matched against the URL's host as
 * written (after the normalization above), and nothing else:
 * - A listed host name is let through as it is: no name checks (localhost, internal suffixes) and no address
 *   checks. It is still resolved, to have addresses to connect to. The operator takes responsibility for where
 *   that name points, including whoever controls its DNS. Its subdomains are not listed.
 * - A listed IP address lets through URLs whose host is that address, in any spelling (`127.0.0.1`, `2130706433`,
 *   `0x7f.1`). It does not open names that resolve to it: `http://anything.example/` pointing at a listed
 *   127.0.0.1 is still refused, so open an intranet name by listing the name.
 */

export type UrlVerdict =
  | { allowed: true; url: URL; addresses: string[] }
  /** `unresolved`: the URL passed every other check, but its host name did not resolve (now). */
  | { allowed: false; reason: string; unresolved?: { host: string } };

export interface UrlGuard {
  /** Parses, checks scheme/host/suffix/literal IPs, resolves DNS and checks every resolved address. */
  check(rawUrl: string): Promise<UrlVerdict>;
}

export interface UrlGuardOptions {
  /** Host names and IP addresses let through (config.render.allowedHosts). An entry that is neither throws. */
  allowedHosts: readonly string[];
  /** Resolves a host name to its IP addresses; defaults to the system resolver (dns.lookup, all addresses). */
  lookup?: (hostname: string) => Promise<string[]>;
}

export const REASONS = {
  invalidUrl: 'Invalid URL',
  scheme: 'Disallowed scheme',
  missingHost: 'Missing host',
  metadata: 'Local/metadata host',
  loopback: 'Local/Loopback host not allowed',
  privateIp: 'Private IP address not allowed',
  unresolved: 'Could not resolve host',
  internalDomain: (suffix: string) => `Internal domain pattern blocked: ${suffix}`,
  targetIp: (ip: string) => `Disallowed target IP: ${ip}`,
} as const;

/** PostHog's list, in PostHog's order (the first match names the suffix in the message). */
export const INTERNAL_DOMAIN_SUFFIXES = [
  '.local',
  '.internal',
  '.svc.cluster.local',
  '.cluster.local',
  '.consul',
  '.lan',
  '.home',
  '.corp',
  '.localdomain',
  '.home.arpa',
  '.intranet',
  '.priv',
] as const;

const METADATA_HOSTS = new Set(['metadata.google.internal']);
const ALLOWED_SCHEMES = new Set(['http', 'https']);
/** getaddrinfo cannot be cancelled; a lookup slower than this is treated as a failure. */
const LOOKUP_TIMEOUT_MS = 5_000;

/** The system resolver, as browsers use it: /etc/hosts, then DNS, every address in the resolver's order. */
export async function systemLookup(hostname: string): Promise<string[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

export function createUrlGuard(options: UrlGuardOptions): UrlGuard {
  const lookup = options.lookup ?? systemLookup;
  const allowedNames = new Set<string>();
  const allowedIps = new Set<string>();
  for (const entry of options.allowedHosts) {
    const normalized = normalizeAllowEntry(entry);
    (normalized.ip ? allowedIps : allowedNames).add(normalized.host);
  }

  const refuse = (reason: string): UrlVerdict => ({ allowed: false, reason });

  async function resolve(host: string): Promise<ParsedIp[] | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const answers = await Promise.race([Promise.resolve().then(() => lookup(host)), timeout]);
      const seen = new Map<string, ParsedIp>();
      for (const answer of answers) {
        const ip = typeof answer === 'string' ? parseIp(answer) : null;
        if (ip && !seen.has(ip.text)) seen.set(ip.text, ip);
      }
      return seen.size > 0 ? [...seen.values()] : null;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async check(rawUrl: string): Promise<UrlVerdict> {
      const target = parseTarget(rawUrl);
      if ('reason' in target) return refuse(target.reason);
      const { url, host } = target;

      const literal = parseIp(host);
      if (literal) {
        const kind = allowedIps.has(literal.text) ? 'public' : classifyIp(literal);
        if (kind !== 'public') return refuse(literalReason(kind));
        return { allowed: true, url, addresses: [literal.text] };
      }

      const listedName = allowedNames.has(host);
      if (!listedName) {
        const reason = nameReason(host);
        if (reason) return refuse(reason);
      }
      const addresses = await resolve(host);
      if (!addresses) return { allowed: false, reason: REASONS.unresolved, unresolved: { host } };
      if (!listedName) {
        for (const ip of addresses) {
          if (classifyIp(ip) !== 'public') return refuse(REASONS.targetIp(ip.text));
        }
      }
      return { allowed: true, url, addresses: addresses.map((ip) => ip.text) };
    },
  };
}

function literalReason(kind: Exclude<IpKind, 'public'>): string {
  if (kind === 'loopback') return REASONS.loopback;
  if (kind === 'metadata') return REASONS.metadata;
  return REASONS.privateIp;
}

function nameReason(host: string): string | null {
  if (METADATA_HOSTS.has(host)) return REASONS.metadata;
  if (host === 'localhost' || host.endsWith('.localhost')) return REASONS.loopback;
  const suffix = INTERNAL_DOMAIN_SUFFIXES.find((s) => host.endsWith(s));
  return suffix ? REASONS.internalDomain(suffix) : null;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
/** After "http:", an authority must follow ("//" and at least one character of it), as PostHog's urlparse requires. */
const AUTHORITY = /^[/\\]{2}[^/\\?#]/;

function parseTarget(rawUrl: string): { url: URL; host: string } | { reason: string } {
  if (typeof rawUrl !== 'string') return { reason: REASONS.invalidUrl };
  // What the WHATWG parser drops before parsing: surrounding C0 controls and spaces, tabs and newlines anywhere.
  const s = rawUrl.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const scheme = SCHEME.exec(s);
  if (scheme) {
    if (!ALLOWED_SCHEMES.has((scheme[1] ?? '').toLowerCase())) return { reason: REASONS.scheme };
    // The WHATWG parser reads "http:example.com" and "http:///example.com" as http://example.com/; PostHog (and
    // Django's URLValidator) see no host there. Refusing is the stricter reading.
    if (!AUTHORITY.test(s.slice(scheme[0].length))) return { reason: REASONS.missingHost };
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { reason: REASONS.invalidUrl };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: REASONS.scheme };
  const host = canonicalHost(url.hostname);
  if (!host) return { reason: REASONS.missingHost };
  return { url, host };
}

/** The WHATWG host (already lower-case, punycode, IPv4 normalized) without IPv6 brackets and trailing dots. */
function canonicalHost(hostname: string): string {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return bare.replace(/\.+$/, '');
}

const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

function normalizeAllowEntry(entry: string): { ip: boolean; host: string } {
  const invalid = () => new Error(`RENDER_ALLOWED_HOSTS: "${entry}" is not a host name or an IP address`);
  const trimmed = entry.trim().toLowerCase();
  const ip = parseIp(trimmed);
  if (ip) return { ip: true, host: ip.text };
  let url: URL;
  try {
    url = new URL(`http://${trimmed}/`);
  } catch {
    throw invalid();
  }
  if (url.username || url.password || url.port || url.pathname !== '/' || url.search || url.hash) throw invalid();
  const host = canonicalHost(url.hostname);
  const normalizedIp = parseIp(host);
  if (normalizedIp) return { ip: true, host: normalizedIp.text };
  if (!HOST_NAME.test(host)) throw invalid();
  return { ip: false, host };
}
