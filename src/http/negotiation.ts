/**
 * Whether a client asked for HTML before JSON: a browser's Accept lists text/html (or XHTML) with a higher quality
 * than application/json and any wildcard; curl's `*\/*` and API clients' application/json get JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const quality = Number.isFinite(q) ? q : 0;
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, quality);
    else if (type === 'application/json' || type === '*/*' || type === 'application/*') json = Math.max(json, quality);
  }
  return html > 0 && html >= json;
}
