/** A LIKE/ILIKE pattern matching `text` literally (the backslash is Postgres' default LIKE escape). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
