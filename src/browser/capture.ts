import type { Page } from 'playwright-core';
import { PermanentRenderError, TransientRenderError } from './errors.js';
import type { RenderLogger } from './pool.js';

/**
 * A full-page JPEG of the top `height` px at `width`, clipped by Chromium itself (no bitmap taller than the clip is
 * ever built). Animations are stopped and the caret hidden.
 */
export function captureJpeg(page: Page, options: { width: number; height: number; quality: number; timeoutMs: number }): Promise<Buffer> {
  const { width, height, quality, timeoutMs } = options;
  return page.screenshot({
    type: 'jpeg',
    quality,
    fullPage: true,
    clip: { x: 0, y: 0, width, height },
    animations: 'disabled',
    caret: 'hide',
    timeout: timeoutMs,
  });
}

const MIN_QUALITY = 30;

/**
 * Checks Chromium's JPEG and brings it to the exact width and under the byte cap: lower quality first (in steps
 * of 10, down to 30), then a shorter image. Only a cap too small for a one-pixel strip fails (permanently).
 */
export async function finishJpeg(
  raw: Buffer,
  options: { width: number; quality: number; maxBytes: number; log: RenderLogger },
): Promise<{ jpeg: Buffer; height: number; quality: number }> {
  const { width, maxBytes, log } = options;
  // Loaded on first use: libvips costs a server that never renders about 28 MB.
  const { default: sharp } = await import('sharp');
  const meta = await sharp(raw)
    .metadata()
    .catch(() => undefined);
  if (!meta || meta.format !== 'jpeg' || !meta.width || !meta.height) {
    throw new TransientRenderError('Chromium returned a screenshot that is not a readable JPEG');
  }
  let jpeg = raw;
  let height = meta.height;
  let quality = options.quality;

  if (meta.width !== width) {
    // Not expected (the clip is the viewport width); keep the overlay's coordinates right if it happens.
    log.warn({ expected: width, got: meta.width }, 'screenshot width differs from the viewport; padding or cropping it');
    const keep = Math.min(meta.width, width);
    jpeg = await sharp(raw)
      .extract({ left: 0, top: 0, width: keep, height })
      .extend({ right: width - keep, background: '#ffffff' })
      .jpeg({ quality })
      .toBuffer();
  }

  if (jpeg.length > maxBytes) {
    const source = jpeg;
    const originalBytes = jpeg.length;
    for (let q = quality - 10; q >= MIN_QUALITY && jpeg.length > maxBytes; q -= 10) {
      quality = q;
      jpeg = await sharp(source).jpeg({ quality }).toBuffer();
    }
    quality = Math.min(quality, Math.max(MIN_QUALITY, options.quality - 10));
    while (jpeg.length > maxBytes) {
      const shorter = Math.floor(height * (maxBytes / jpeg.length) * 0.9);
      if (shorter < 1) {
        throw new PermanentRenderError(`Screenshot too large: ${originalBytes} bytes, and RENDER_MAX_BYTES (${maxBytes}) is too small for any image ${width} px wide`);
      }
      height = shorter;
      jpeg = await sharp(source).extract({ left: 0, top: 0, width, height }).jpeg({ quality }).toBuffer();
    }
    log.info({ originalBytes, bytes: jpeg.length, quality, height }, 'screenshot over the byte cap: re-encoded');
  }

  const check = await sharp(jpeg).metadata();
  if (check.format !== 'jpeg' || check.width !== width || check.height !== height) {
    throw new TransientRenderError(`Screenshot failed its check: ${check.format} ${check.width}x${check.height}`);
  }
  return { jpeg, height, quality };
}
