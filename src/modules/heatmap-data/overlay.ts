import type { OverlayOptions } from 'sharp';

/**
 * The heatmap drawn over a screenshot on the server, as PostHog's web app draws it with heatmap.js (its defaults,
 * docs/heatmap-data.md §3.3): each point stamps a radial gradient (opaque within 15% of a 40-px radius, clear at the
 * radius) with an opacity of its value over the highest one; the stamps pile up as canvas alpha does, and the alpha
 * picks the colour from blue through green and yellow to red, at most 80% opaque.
 */

export interface OverlayPoint {
  /** Pixels from the left and top of the screenshot. */
  x: number;
  y: number;
  value: number;
}

export interface ScrollBand {
  /** The bottom of the band, in pixels from the top. */
  bottom: number;
  /** How many got at least this far. */
  count: number;
}

const RADIUS = 40;
const INNER = RADIUS * (1 - 0.85);
const MAX_OPACITY = Math.round(0.8 * 255);
/** heatmap.js's default gradient (PostHog's "default" palette). */
const STOPS: [number, [number, number, number]][] = [
  [0.25, [0, 0, 255]],
  [0.55, [0, 255, 0]],
  [0.85, [255, 255, 0]],
  [1, [255, 0, 0]],
];

/** The 256 colours a canvas linear gradient of the stops gives, one per alpha value. */
const PALETTE: [number, number, number][] = Array.from({ length: 256 }, (_, i) => {
  const at = i / 255;
  const upper = STOPS.findIndex(([offset]) => offset >= at);
  if (upper <= 0) return STOPS[upper === 0 ? 0 : STOPS.length - 1]![1];
  const [from, a] = STOPS[upper - 1]!;
  const [to, b] = STOPS[upper]!;
  const t = (at - from) / (to - from);
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * t)) as [number, number, number];
});

/** The stamp's opacity at each offset within the radius. */
const STAMP = (() => {
  const size = 2 * RADIUS + 1;
  const stamp = new Float32Array(size * size);
  for (let dy = -RADIUS; dy <= RADIUS; dy++) {
    for (let dx = -RADIUS; dx <= RADIUS; dx++) {
      const distance = Math.hypot(dx, dy);
      stamp[(dy + RADIUS) * size + dx + RADIUS] = distance <= INNER ? 1 : distance >= RADIUS ? 0 : 1 - (distance - INNER) / (RADIUS - INNER);
    }
  }
  return stamp;
})();

/** For each row of the stamp, the largest |dx| where it is not clear (-1 for none): the stamp is a disc. */
const SPAN = Array.from({ length: 2 * RADIUS + 1 }, (_, row) => {
  let span = -1;
  for (let dx = 0; dx <= RADIUS; dx++) if (STAMP[row * (2 * RADIUS + 1) + dx + RADIUS]! > 0) span = dx;
  return span;
});

/** The heatmap layer as RGBA pixels of width x height, values scaled to `max`; points outside it are left out. */
export function heatmapLayer(width: number, height: number, points: OverlayPoint[], max: number): Buffer {
  const alpha = new Float32Array(width * height);
  const size = 2 * RADIUS + 1;
  for (const point of points) {
    if (point.x < -RADIUS || point.x > width + RADIUS || point.y < -RADIUS || point.y > height + RADIUS || max === 0) continue;
    const opacity = Math.max(0.01, Math.min(point.value, max) / max);
    // Only the stamp's disc within the layer: the same pixels, in the same order, as the whole square would touch.
    const { x: px, y: py } = point;
    const bottom = Math.min(height - 1, py + RADIUS);
    for (let y = Math.max(0, py - RADIUS); y <= bottom; y++) {
      const row = y - py + RADIUS;
      const span = SPAN[row]!;
      if (span < 0) continue;
      const stampAt = row * size + RADIUS - px;
      const line = y * width;
      const right = Math.min(width - 1, px + span);
      for (let x = Math.max(0, px - span); x <= right; x++) {
        const source = STAMP[stampAt + x]! * opacity;
        if (source === 0) continue;
        const i = line + x;
        alpha[i] = source + alpha[i]! * (1 - source);
      }
    }
  }
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < alpha.length; i++) {
    const value = alpha[i]!;
    if (value === 0) continue;
    const a = Math.round(value * 255);
    if (a === 0) continue;
    const [r, g, b] = PALETTE[a]!;
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = b;
    rgba[i * 4 + 3] = Math.min(a, MAX_OPACITY);
  }
  return rgba;
}

/** hsl(h, 100%, 50%) as RGB. */
function hue(h: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (0.5 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/**
 * Scroll depth as PostHog's ScrollDepthCanvas draws it: one half-opaque band per bucket, from the previous bucket's
 * bottom to its own, red where everyone got and violet where few did.
 */
export function scrollDepthLayer(width: number, height: number, bands: ScrollBand[]): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  const most = bands[0]?.count ?? 0;
  let top = 0;
  for (const band of bands) {
    const [r, g, b] = hue(Math.round(260 * Math.min(1, Math.max(0, 1 - band.count / (most || 1)))));
    for (let y = Math.max(0, top); y < Math.min(height, band.bottom); y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        rgba[i] = r;
        rgba[i + 1] = g;
        rgba[i + 2] = b;
        rgba[i + 3] = 128;
      }
    }
    top = band.bottom;
  }
  return rgba;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small legend in the top right corner: the colour ramp from nothing to the highest value, and what is counted. */
function legend(label: string, max: number | null): Buffer {
  const ramp = STOPS.map(([offset, [r, g, b]]) => `<stop offset="${offset}" stop-color="rgb(${r},${g},${b})"/>`).join('');
  const scale = max === null ? '' : `<text x="10" y="44" font-size="11">0</text><text x="170" y="44" font-size="11" text-anchor="end">${max}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="52">
  <defs><linearGradient id="ramp"><stop offset="0" stop-color="rgb(0,0,255)" stop-opacity="0"/>${ramp}</linearGradient></defs>
  <rect width="180" height="52" rx="4" fill="white" fill-opacity="0.85"/>
  <text x="10" y="16" font-family="sans-serif" font-size="12">${escapeXml(label)}</text>
  <rect x="10" y="22" width="160" height="10" fill="url(#ramp)"/>
  <g font-family="sans-serif">${scale}</g>
</svg>`;
  return Buffer.from(svg.replace(/\n\s*/g, ''));
}

/** The size of a stored screenshot. */
export async function imageSize(image: Buffer): Promise<{ width: number | undefined; height: number | undefined }> {
  const { default: sharp } = await import('sharp');
  const { width, height } = await sharp(image).metadata();
  return { width, height };
}

/** The screenshot with the layer drawn on it and the legend in its corner, as PNG or JPEG. */
export async function composeOverlay(
  screenshot: Buffer,
  layer: { rgba: Buffer; width: number; height: number },
  options: { format: 'png' | 'jpeg'; label: string; max: number | null },
): Promise<Buffer> {
  const composites: OverlayOptions[] = [{ input: layer.rgba, raw: { width: layer.width, height: layer.height, channels: 4 }, top: 0, left: 0 }];
  if (layer.width >= 200) composites.push({ input: legend(options.label, options.max), top: 8, left: layer.width - 188 });
  // Loaded on first use, so a server that never draws an overlay never holds sharp.
  const { default: sharp } = await import('sharp');
  // The screenshot is an opaque JPEG, so is the result: without its alpha channel the PNG has a quarter less to encode.
  const image = sharp(screenshot).composite(composites).removeAlpha();
  return options.format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 85 }).toBuffer();
}
