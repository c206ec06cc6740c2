// @ts-check

const MAX_SCROLL_STEPS = 100;

/**
 * The scroll pass, in one call: down one viewport height at a time, from `from` to the bottom or maxY, waiting at
 * each position until a frame has laid it out and painted it (so IntersectionObservers have seen it before the
 * next; one frame when the scroll was made in a frame's callbacks, otherwise two), and at least `dwellMs` in all
 * (the slow pass). The page may grow as it goes. A frame that does not come within 500 ms (a page that is not being
 * painted) does not stop the pass; the in-page deadline (`budgetMs` from now) does. Returns the steps taken and how
 * far down the page has been seen (the bottom of the viewport at the last position).
 * @param {{ from: number, budgetMs: number, maxY: number, dwellMs: number }} options
 * @returns {Promise<{ steps: number, seen: number, done: boolean }>}
 */
async function scrollPass({ from, budgetMs, maxY, dwellMs }) {
  hideScrollbars();
  const end = Date.now() + Math.round(budgetMs);
  const height = () => {
    const d = document.documentElement, b = document.body;
    return Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0);
  };
  // The layout viewport, which IntersectionObserver (and so loading=lazy) measures against. On a phone page wider
  // than the device it is taller than what is on screen; the observers still see all of it.
  const view = () => Math.max(100, window.innerHeight);
  let y = Math.max(0, Math.round(from)), steps = 0, previous = -1, done = false, inFrame = false;
  for (;;) {
    const at = Date.now();
    window.scrollTo({ top: y, left: 0, behavior: 'instant' });
    // A scroll made in a frame's callbacks is laid out, observed and painted in that frame: the next frame means
    // it was. One made anywhere else (the first step, after a dwell or a frame that did not come) is only in the
    // frame after the next one.
    if (!inFrame) await frame();
    inFrame = await frame();
    if (dwellMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + Math.round(dwellMs) - Date.now())));
      inFrame = false;
    }
    steps++;
    y = window.scrollY;
    const last = Math.max(0, Math.min(height(), maxY) - view());
    // The end: the bottom (or maxY), or as far as the page scrolls (done); or out of steps or time.
    done = y >= last || y <= previous;
    if (done || steps >= MAX_SCROLL_STEPS || Date.now() >= end) break;
    previous = y;
    y = Math.min(last, y + view());
  }
  return { steps, seen: Math.floor(y + view()), done };
}
