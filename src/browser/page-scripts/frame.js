// @ts-check

/**
 * Waits for an animation frame, or 500 ms when none comes (a page that is not being painted). Resolves to whether
 * a frame came: code that runs on at once then runs inside that frame's callbacks, before its layout.
 * @returns {Promise<boolean>}
 */
function frame() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 500);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
