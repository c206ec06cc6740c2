/** What Postgres cannot store in text or jsonb: NUL, and UTF-16 surrogates that are not part of a pair. */

export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

export const hasUnstorableText = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);

/** The text with each unstorable character replaced by U+FFFD. */
export const storableText = (text: string): string => text.replace(UNSTORABLE, '\ufffd');

/**
 * The first `max` UTF-16 units of the text, one fewer when the cut would leave the first half of a surrogate pair
 * alone (which Postgres would refuse).
 */
export function truncatedText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
