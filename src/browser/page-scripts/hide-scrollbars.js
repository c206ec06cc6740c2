// @ts-check

const HIDE_SCROLLBARS_CSS = '*::-webkit-scrollbar { display: none !important; } html, body { scrollbar-width: none !important; }';

/** Adds the scrollbar-hiding style once per document (a page that replaced its document gets it again). */
function hideScrollbars() {
  const root = document.documentElement;
  if (root && !document.getElementById('__burrow_hide_scrollbars')) {
    const style = document.createElement('style');
    style.id = '__burrow_hide_scrollbars';
    style.textContent = HIDE_SCROLLBARS_CSS;
    (document.head || root).appendChild(style);
  }
}
