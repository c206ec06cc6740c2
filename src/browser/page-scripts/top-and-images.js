// @ts-check

/**
 * After the settle: when the page grew past what the scroll pass saw (images and sections that loaded late), the
 * scroll pass goes on from there (answer: `{ grown }`, how far it had seen; `seen` -1: no growth check). Then, with
 * lazy 'check', lazy images still pending call for the slow pass (answer: `{ pending }`); with 'give up' (after the
 * slow pass), those still pending are given up on (lazyCheck). Otherwise back to the top, a wait of at most `ms` for
 * the images in the captured part of the page (above maxY) still loading, and the page's height then (answer:
 * `{ height }`, measured as pageHeight does).
 * @param {{ seen: number, ms: number, maxY: number, lazy: 'check' | 'give up' }} options
 * @returns {{ grown: number } | { pending: number } | Promise<{ height: number }>}
 */
function topAndImages({ seen, ms, maxY, lazy }) {
  const d = document.documentElement, b = document.body;
  const height = Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0);
  if (seen >= 0 && Math.min(height, maxY) > Math.round(seen) + 1) return { grown: Math.round(seen) };
  const pending = lazyCheck(maxY, lazy === 'give up');
  if (pending > 0) return { pending };
  hideScrollbars();
  window.scrollTo({ top: 0, left: 0, behavior: 'instant' });
  return Promise.race([
    Promise.all(Array.from(document.images)
      .filter((img) => !img.complete && img.currentSrc && img.getBoundingClientRect().top + window.scrollY < maxY)
      .map((img) => new Promise((resolve) => {
        img.addEventListener('load', resolve, { once: true });
        img.addEventListener('error', resolve, { once: true });
      }))),
    new Promise((resolve) => setTimeout(resolve, Math.round(ms))),
  ]).then(() => ({ height: pageHeight() }));
}
