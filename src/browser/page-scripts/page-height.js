// @ts-check

/**
 * Playwright's own full-page size formula (screenshotter.ts), so the clip matches what it would capture.
 * @returns {number}
 */
function pageHeight() {
  const d = document.documentElement, b = document.body;
  if (!d) return 0;
  return Math.max(d.scrollHeight, d.offsetHeight, d.clientHeight, b ? b.scrollHeight : 0, b ? b.offsetHeight : 0, b ? b.clientHeight : 0);
}
