// @ts-check

/** Removes Cookiebot's dialog and its underlay. */
function removeCookiebot() {
  for (const id of ['CybotCookiebotDialog', 'CybotCookiebotDialogBodyUnderlay']) document.getElementById(id)?.remove();
}
