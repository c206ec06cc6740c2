// @ts-check

/** How scroll-listener loaders (lazysizes and the like) mark the images they have not loaded yet. */
const LAZY_SELECTOR = [
  'img[data-src]',
  'img[data-srcset]',
  'img[data-lazy-src]',
  'img[data-lazy-srcset]',
  'img[data-original]',
  'img.lazyload',
  'iframe[data-src]',
  'iframe.lazyload',
].join(',');

/**
 * Lazy images the fast scroll pass may not have got loaded. IntersectionObservers and loading=lazy see every
 * position of the fast pass, but a scroll listener that checks at most every so often (lazysizes: 125 ms) or once
 * scrolling pauses sees only some. Such loaders mark their images: a URL in data-src (data-srcset, data-lazy-src,
 * data-original) and no real image yet (no src, or a data: placeholder), or lazysizes' class "lazyload", which it
 * removes when it loads the image. Counted when laid out (not display: none) and above maxY. Those still pending
 * after the slow pass (say, loaded on click) are remembered on the page (`giveUp`: they are, and 0 is returned)
 * and not counted again at later widths.
 * @param {number} maxY
 * @param {boolean} giveUp
 * @returns {number}
 */
function lazyCheck(maxY, giveUp) {
  const page = /** @type {Window & { __burrowLazyGivenUp?: WeakSet<Element> }} */ (window);
  const given = page.__burrowLazyGivenUp || (page.__burrowLazyGivenUp = new WeakSet());
  const pending = Array.from(document.querySelectorAll(LAZY_SELECTOR)).filter((el) => {
    if (given.has(el) || el.getClientRects().length === 0) return false;
    if (el.getBoundingClientRect().top + window.scrollY >= maxY) return false;
    if (el.classList.contains('lazyload')) return true;
    const src = (el.tagName === 'IMG' && /** @type {HTMLImageElement} */ (el).currentSrc) || el.getAttribute('src') || '';
    return src === '' || /^(data:|about:blank)/i.test(src);
  });
  if (giveUp) {
    for (const el of pending) given.add(el);
    return 0;
  }
  return pending.length;
}
