// Date functions follow .NET/VB: UTC rendering as M/d/yyyy h:mm:ss tt, VB DateAdd/DateDiff, FILETIME.
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/expressions/index.js';

const value = (expression: string, attributes: Record<string, unknown> = {}, now?: string) =>
  evaluateExpression(expression, attributes, now ? { now: new Date(now) } : {}).value;

describe('date functions', () => {
  it('Now() renders the injected clock in UTC, 12-hour with AM/PM', () => {
    expect(value('Now()', {}, '2021-07-02T15:33:38Z')).toBe('7/2/2021 3:33:38 PM');
    expect(value('Now()', {}, '2021-07-02T00:05:09Z')).toBe('7/2/2021 12:05:09 AM');
    expect(value('Now()', {}, '2021-07-02T12:00:00Z')).toBe('7/2/2021 12:00:00 PM');
  });

  it('CDate reads ISO forms with and without time or offset, and its own output', () => {
    expect(value('CDate("2024-02-29")')).toBe('2/29/2024 12:00:00 AM');
    expect(value('CDate("2024-02-29T23:30:00Z")')).toBe('2/29/2024 11:30:00 PM');
    expect(value('CDate("2024-02-29T23:30:00.1234567+05:30")')).toBe('2/29/2024 6:00:00 PM');
    expect(value('CDate(CDate("7/2/2021 3:33:38 PM"))')).toBe('7/2/2021 3:33:38 PM');
  });

  it('CDate rejects dates that do not exist', () => {
    expect(() => value('CDate("2023-02-29")')).toThrow(/day 29 does not exist in February 2023/);
  });

  it('DateAdd clamps the day of month like .NET AddMonths and truncates fractional amounts', () => {
    expect(value('DateAdd("m", 1, CDate("2024-01-31"))')).toBe('2/29/2024 12:00:00 AM');
    expect(value('DateAdd("yyyy", 1, CDate("2024-02-29"))')).toBe('2/28/2025 12:00:00 AM');
    expect(value('DateAdd("d", 1.9, CDate("2024-01-01"))')).toBe('1/2/2024 12:00:00 AM');
    expect(value('DateAdd("q", -1, CDate("2024-05-31"))')).toBe('2/29/2024 12:00:00 AM');
    expect(value('DateAdd("h", "36", CDate("2024-01-01"))')).toBe('1/2/2024 12:00:00 PM');
  });

  it('DateDiff counts VB boundaries: years and months by calendar, days by whole elapsed days', () => {
    expect(value('DateDiff("yyyy", CDate("2023-12-31T23:59:59Z"), CDate("2024-01-01"))')).toBe(1);
    expect(value('DateDiff("m", CDate("2024-01-31"), CDate("2024-02-01"))')).toBe(1);
    expect(value('DateDiff("d", CDate("2024-01-01T12:00:00Z"), CDate("2024-01-02T11:59:59Z"))')).toBe(0);
    expect(value('DateDiff("d", CDate("2024-01-02T11:59:59Z"), CDate("2024-01-01T12:00:00Z"))')).toBe(0);
  });

  it('DateDiff "ww" counts Sunday-started calendar weeks crossed; "w" counts whole 7-day spans', () => {
    // Saturday 2024-03-09 to Sunday 2024-03-10: one week boundary, one day.
    expect(value('DateDiff("ww", CDate("2024-03-09"), CDate("2024-03-10"))')).toBe(1);
    expect(value('DateDiff("w", CDate("2024-03-09"), CDate("2024-03-10"))')).toBe(0);
    // Sunday to the following Saturday: same calendar week.
    expect(value('DateDiff("ww", CDate("2024-03-10"), CDate("2024-03-16"))')).toBe(0);
  });

  it('FormatDateTime parses and formats .NET custom formats', () => {
    expect(value('FormatDateTime("2024-03-05T07:08:09Z", , "yyyy-MM-ddTHH:mm:ssK", "dddd, MMMM d, yyyy h:mm tt")')).toBe('Tuesday, March 5, 2024 7:08 AM');
    expect(value('FormatDateTime("05.03.24", , "dd.MM.yy", "yyyyMMdd")')).toBe('20240305');
    expect(value('FormatDateTime("Mar 5 2024", , "MMM d yyyy", "M/d/yyyy")')).toBe('3/5/2024');
    expect(value('FormatDateTime("2024-03-05 10:11:12.345", , "yyyy-MM-dd HH:mm:ss.fff", "HH\'h\'mm ss.ff \\"UTC\\"")')).toBe('10h11 12.34 UTC');
    expect(value('FormatDateTime("2024-03-05", , "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss.FFFzzz")')).toBe('2024-03-05T00:00:00+00:00');
    // 12-hour fields shift only when an AM/PM designator was read.
    expect(value('FormatDateTime("2024-03-05 12:30", , "yyyy-MM-dd h:mm", "HH:mm")')).toBe('12:30');
    expect(value('FormatDateTime("2024-03-05 12:30 AM", , "yyyy-MM-dd h:mm tt", "HH:mm")')).toBe('00:30');
  });

  it('FormatDateTime converts an input offset to UTC, as on Entra\'s UTC servers', () => {
    expect(value('FormatDateTime("2020-12-31+08:00", , "yyyy-MM-ddzzz", "yyyy-MM-dd HH:mm")')).toBe('2020-12-30 16:00');
    expect(value('FormatDateTime("2020-12-31-08:00", , "yyyy-MM-ddzzz", "yyyy-MM-dd")')).toBe('2020-12-31');
  });

  it('FormatDateTime accepts a DateTime from Now() or CDate directly', () => {
    expect(value('FormatDateTime(Now(), , "M/d/yyyy h:mm:ss tt", "yyyy-MM-dd")', {}, '2026-04-10T22:00:00Z')).toBe('2026-04-10');
  });

  it('NumFromDate and DateFromNum are inverses, at 100-ns precision', () => {
    expect(value('NumFromDate("2012-01-01T23:00:00Z")')).toBe('129699324000000000');
    expect(value('NumFromDate(DateFromNum("133835135990000001"))')).toBe('133835135990000001');
    expect(value('DateFromNum(NumFromDate("1601-01-01T00:00:00Z"))')).toBe('1/1/1601 12:00:00 AM');
  });

  it('DateFromNum explains AD\'s "never expires" value instead of failing obscurely', () => {
    expect(() => value('DateFromNum("9223372036854775807")')).toThrow(/never/);
  });
});
