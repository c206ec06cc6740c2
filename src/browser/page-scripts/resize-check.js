// @ts-check

/**
 * After a resize (`settle`: first two frames, so the new layout is there): what could still need a scroll pass.
 * IntersectionObserver targets laid out above maxY that were never reported intersecting, or are out again near
 * the bottom (io-tracker.js); loading=lazy images laid out above maxY not loaded yet; any loading=lazy iframe; and
 * the images scroll-listener loaders mark (lazyCheck). `pending` -1: the tracker is missing, so unknown. `seen`:
 * the page's height (up to maxY), for the growth check after the settle.
 * @param {{ maxY: number, settle: boolean }} options
 * @returns {Promise<{ pending: number, seen: number }>}
 */
async function resizeCheck({ maxY, settle }) {
  if (settle) {
    hideScrollbars();
    await frame();
    await frame();
  }
  const d = document.documentElement, b = document.body;
  const seen = Math.min(Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0), maxY);
  const io = /** @type {Window & { __burrowIo?: IoTracker }} */ (window).__burrowIo;
  if (!io || typeof io.pending !== 'function') return { pending: -1, seen };
  /** @param {Element} el */
  const shown = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().top + window.scrollY < maxY;
  let pending = io.pending(maxY, seen - 2 * Math.max(100, window.innerHeight));
  const lazyImages = /** @type {NodeListOf<HTMLImageElement>} */ (document.querySelectorAll('img[loading="lazy" i]'));
  pending += Array.from(lazyImages).filter((img) => !img.complete && shown(img)).length;
  pending += document.querySelectorAll('iframe[loading="lazy" i]').length;
  pending += lazyCheck(maxY, false);
  return { pending, seen };
}
