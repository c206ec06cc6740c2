import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP address parsing and classification for the SSRF guard (url-guard.ts). Pure functions, no I/O.
 *
 * Every address is reduced to one canonical text form before it is compared or classified: dotted quad for
 * IPv4, the WHATWG URL serialization for IPv6 (lower-case, `::`-compressed, never dotted), without a zone id.
 */

export interface ParsedIp {
  version: 4 | 6;
  /** Canonical text form, also the form to connect to. */
  text: string;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

/**
 * What an address reaches. Only `public` may be fetched without an allow-list entry; the other kinds decide the
 * message for a literal host ("Local/Loopback host not allowed", "Local/metadata host", "Private IP address not
 * allowed").
 */
export type IpKind = 'public' | 'loopback' | 'metadata' | 'private';

/** Parses an IPv4 dotted quad or an IPv6 address (brackets and a zone id are accepted and dropped). */
export function parseIp(input: string): ParsedIp | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv4(s)) {
    const bytes = Uint8Array.from(s.split('.').map(Number));
    return { version: 4, text: s, bytes };
  }
  if (isIPv6(s)) {
    let canonical: string;
    try {
      canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
    const bytes = ipv6Bytes(canonical);
    return bytes ? { version: 6, text: canonical, bytes } : null;
  }
  return null;
}

/** Bytes of a canonical (WHATWG-serialized: hex groups, at most one `::`) IPv6 address. */
function ipv6Bytes(canonical: string): Uint8Array | null {
  const halves = canonical.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  const groups = halves.length === 2 ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return null;
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  return bytes;
}

interface Range {
  prefix: Uint8Array;
  bits: number;
}

function range(cidr: string): Range {
  const [address, bits] = cidr.split('/');
  const parsed = parseIp(address ?? '');
  if (!parsed || bits === undefined) throw new Error(`bad CIDR ${cidr}`);
  return { prefix: parsed.bytes, bits: Number(bits) };
}

function inRange(bytes: Uint8Array, { prefix, bits }: Range): boolean {
  if (bytes.length !== prefix.length) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== prefix[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] ?? 0) & mask) === ((prefix[whole] ?? 0) & mask);
}

const V4_LOOPBACK = range('127.0.0.0/8');
const V4_METADATA = range('169.254.169.254/32');
/** IPv4 space that is not the public internet (IANA special-purpose registry, RFC 6890 and successors). */
const V4_BLOCKED = [
  '0.0.0.0/8', // "this network", includes 0.0.0.0 (unspecified)
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT; also Alibaba's metadata service (100.100.100.200)
  '169.254.0.0/16', // link-local, cloud metadata
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation
  '192.88.99.0/24', // 6to4 relay anycast (deprecated)
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, includes 255.255.255.255 (broadcast)
].map(range);

const V6_MAPPED = range('::ffff:0:0/96'); // IPv4-mapped: reaches the embedded IPv4 host
const V6_NAT64 = range('64:ff9b::/96'); // NAT64 well-known prefix: reaches the embedded IPv4 host
const V6_LOOPBACK = range('::1/128');
const V6_METADATA = range('fd00:ec2::254/128'); // AWS IMDS over IPv6
/** Only global unicast (2000::/3) is the public IPv6 internet; everything outside it is refused. */
const V6_GLOBAL = range('2000::/3');
const V6_BLOCKED_GLOBAL = [
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, ...)
  '2001:db8::/32', // documentation
  '2002::/16', // 6to4, embeds an IPv4 address
  '3fff::/20', // documentation
].map(range);

function classifyV4(bytes: Uint8Array): IpKind {
  if (inRange(bytes, V4_LOOPBACK)) return 'loopback';
  if (inRange(bytes, V4_METADATA)) return 'metadata';
  return V4_BLOCKED.some((r) => inRange(bytes, r)) ? 'private' : 'public';
}

/**
 * Classifies an address. IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96) are judged by
 * that IPv4 address; IPv4-compatible (::a.b.c.d, deprecated) and everything else outside 2000::/3 (ULA fc00::/7,
 * link-local fe80::/10, multicast ff00::/8, ::, ::1, 64:ff9b:1::/48, ...) is not public.
 */
export function classifyIp(ip: ParsedIp): IpKind {
  const { bytes } = ip;
  if (ip.version === 4) return classifyV4(bytes);
  if (inRange(bytes, V6_MAPPED) || inRange(bytes, V6_NAT64)) return classifyV4(bytes.subarray(12));
  if (inRange(bytes, V6_LOOPBACK)) return 'loopback';
  if (inRange(bytes, V6_METADATA)) return 'metadata';
  if (!inRange(bytes, V6_GLOBAL)) return 'private';
  return V6_BLOCKED_GLOBAL.some((r) => inRange(bytes, r)) ? 'private' : 'public';
}
