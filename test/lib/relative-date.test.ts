import { describe, expect, it } from 'vitest';
import { relativeDateWallClock } from '../../src/lib/relative-date.js';

describe('relative dates', () => {
  const now = new Date('2024-03-31T10:20:30.500Z');
  const resolve = (value: string, timeZone = 'UTC') => relativeDateWallClock(value, now, timeZone);

  it('counts back from now to the second, as relativedelta does', () => {
    expect(resolve('-2h')).toBe('2024-03-31 08:20:30');
    expect(resolve('-7d')).toBe('2024-03-24 10:20:30');
    expect(resolve('7d')).toBe('2024-03-24 10:20:30');
    expect(resolve('-1w')).toBe('2024-03-24 10:20:30');
    expect(resolve('-1m')).toBe('2024-02-29 10:20:30');
    expect(resolve('-1q')).toBe('2023-12-31 10:20:30');
    expect(resolve('-1y')).toBe('2023-03-31 10:20:30');
    expect(resolve('-5M')).toBe('2024-03-31 10:15:30');
    expect(resolve('-10s')).toBe('2024-03-31 10:20:20');
    expect(resolve('-3D')).toBe('2024-03-31 10:20:30');
  });

  it('pins the start or end of the hour, day, month or year', () => {
    expect(resolve('-1hStart')).toBe('2024-03-31 09:00:00');
    expect(resolve('-1dStart')).toBe('2024-03-30 00:00:00');
    expect(resolve('-1dEnd')).toBe('2024-03-30 23:59:59');
    expect(resolve('-1mStart')).toBe('2024-02-01 10:20:30');
    expect(resolve('-1mEnd')).toBe('2024-02-29 10:20:30');
    expect(resolve('-1yStart')).toBe('2023-01-01 10:20:30');
  });

  it('moves the wall clock of the time zone', () => {
    expect(resolve('-0dStart', 'Europe/Berlin')).toBe('2024-03-31 00:00:00');
    expect(resolve('-1d', 'America/New_York')).toBe('2024-03-30 06:20:30');
    expect(resolve('-1h', 'Asia/Kolkata')).toBe('2024-03-31 14:50:30');
  });

  it('is null for anything else', () => {
    expect(resolve('2024-01-01')).toBeNull();
    expect(resolve('yesterday')).toBeNull();
    expect(resolve('d')).toBeNull();
  });
});
