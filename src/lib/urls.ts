/**
 * Django's URLValidator as DRF's URLField applies it: http, https, ftp or ftps; a host that is a domain name with
 * a top-level domain, "localhost", an IPv4 address or a bracketed IPv6 address; no whitespace.
 */
const SCHEMES = new Set(['http:', 'https:', 'ftp:', 'ftps:']);
const LABEL = /^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$/i;
const TLD = /^(?:[a-z\u00a1-\uffff-]{2,63}|xn--[a-z0-9]{1,59})$/i;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isDjangoUrl(value: string): boolean {
  if (/\s/.test(value)) return false;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (!scheme || !SCHEMES.has(`${scheme.toLowerCase()}:`)) return false;
  const authority = value.slice(scheme.length + 3).split(/[/?#]/, 1)[0] ?? '';
  const host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d{1,5}$/, '');
  if (host.startsWith('[')) return host.endsWith(']') && canParse(value);
  if (IPV4.test(host) || host.toLowerCase() === 'localhost') return canParse(value);
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels.at(-1)!)) return false;
  return canParse(value);
}

function canParse(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
