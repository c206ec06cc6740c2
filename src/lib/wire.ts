import { z } from 'zod';

/** Wire primitives every area's contract uses. */

/** Django's EmailField accepts single-label domains such as admin@localhost, as the HTML5 rule does. */
export const Email = z.email({ pattern: z.regexes.html5Email });

export const DateTime = z.string().meta({ format: 'date-time', description: 'ISO 8601, UTC, with Z' });

/** The page a list asks for. */
export interface PageParams {
  limit: number;
  offset: number;
}

/** A DRF LimitOffsetPagination page. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });
