/** What Postgres cannot store in text or jsonb: NUL, and UTF-16 surrogates that are not part of a pair. */

export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

export const hasUnstorableText = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);

/** The text with each unstorable character replaced by U+FFFD. */
export const storableText = (text: string): string => text.replace(UNSTORABLE, '\ufffd');
