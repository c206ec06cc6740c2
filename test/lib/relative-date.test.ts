import { describe, expect, it } from 'vitest';
import { resolveRelativeDate } from '../../src/lib/relative-date.js';

describe('relative dates', () => {
  const now = new Date('2024-03-31T10:20:30.500Z');
  const resolve = (value: string) => resolveRelativeDate(value, now)?.toISOString() ?? null;

  it('counts back from now to the second, as relativedelta does', () => {
    expect(resolve('-2h')).toBe('2024-03-31T08:20:30.000Z');
    expect(resolve('-7d')).toBe('2024-03-24T10:20:30.000Z');
    expect(resolve('7d')).toBe('2024-03-24T10:20:30.000Z');
    expect(resolve('-1w')).toBe('2024-03-24T10:20:30.000Z');
    expect(resolve('-1m')).toBe('2024-02-29T10:20:30.000Z');
    expect(resolve('-1q')).toBe('2023-12-31T10:20:30.000Z');
    expect(resolve('-1y')).toBe('2023-03-31T10:20:30.000Z');
    expect(resolve('-5M')).toBe('2024-03-31T10:15:30.000Z');
    expect(resolve('-10s')).toBe('2024-03-31T10:20:20.000Z');
    expect(resolve('-3D')).toBe('2024-03-31T10:20:30.000Z');
  });

  it('pins the start or end of the hour, day, month or year', () => {
    expect(resolve('-1hStart')).toBe('2024-03-31T09:00:00.000Z');
    expect(resolve('-1dStart')).toBe('2024-03-30T00:00:00.000Z');
    expect(resolve('-1dEnd')).toBe('2024-03-30T23:59:59.000Z');
    expect(resolve('-1mStart')).toBe('2024-02-01T10:20:30.000Z');
    expect(resolve('-1mEnd')).toBe('2024-02-29T10:20:30.000Z');
    expect(resolve('-1yStart')).toBe('2023-01-01T10:20:30.000Z');
  });

  it('is null for anything else', () => {
    expect(resolve('2024-01-01')).toBeNull();
    expect(resolve('yesterday')).toBeNull();
    expect(resolve('d')).toBeNull();
  });
});
