// When the daemon runs a cycle at start, and what "the previous scheduled time" is, from node-cron's own
// parser and matcher (local time, as node-cron schedules without a timezone).
import { describe, expect, it } from 'vitest';
import { decideStart, intervalOf, previousFireTime } from '../../src/daemon/scheduler.js';

const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s);

describe('previousFireTime', () => {
  it('finds the latest scheduled time between the last cycle and now', () => {
    // "*/40" fires at 0 and 40 past each hour.
    expect(previousFireTime('*/40 * * * *', at(2025, 3, 10, 10, 45, 12), at(2025, 3, 10, 10, 0, 30))).toEqual(at(2025, 3, 10, 10, 40));
    expect(previousFireTime('*/40 * * * *', at(2025, 3, 10, 10, 40), at(2025, 3, 10, 9, 0, 30))).toEqual(at(2025, 3, 10, 10, 40));
  });

  it('is null when the schedule did not fire since the last cycle', () => {
    expect(previousFireTime('*/40 * * * *', at(2025, 3, 10, 10, 45), at(2025, 3, 10, 10, 41))).toBeNull();
    expect(previousFireTime('*/40 * * * *', at(2025, 3, 10, 10, 45), at(2025, 3, 10, 10, 40))).toBeNull();
  });

  it('walks back over days, weekdays and month ends', () => {
    // Daily at midnight, last cycle two days ago.
    expect(previousFireTime('0 0 0 * * *', at(2025, 3, 10, 15), at(2025, 3, 8, 12))).toEqual(at(2025, 3, 10));
    // Mondays at 09:00; 2025-03-10 is a Monday, the last cycle the Monday before at 09:30.
    expect(previousFireTime('0 9 * * 1', at(2025, 3, 16, 12), at(2025, 3, 3, 9, 30))).toEqual(at(2025, 3, 10, 9));
    expect(previousFireTime('0 9 * * 1', at(2025, 3, 10, 8, 59), at(2025, 3, 3, 9, 30))).toBeNull();
    // The last day of the month at 23:00, across a year end.
    expect(previousFireTime('0 23 L * *', at(2025, 1, 15), at(2024, 11, 1))).toEqual(at(2024, 12, 31, 23));
  });

  it('with seconds (6 fields)', () => {
    expect(previousFireTime('*/2 * * * * *', at(2025, 3, 10, 10, 0, 5), at(2025, 3, 10, 10, 0, 1))).toEqual(at(2025, 3, 10, 10, 0, 4));
  });
});

describe('decideStart', () => {
  const now = at(2025, 3, 10, 10, 45);
  const cron = '*/40 * * * *';

  it('runOnStart: a cycle at start, whatever the state says', () => {
    expect(decideStart({ cron, runOnStart: true, last: null, now })).toMatchObject({ reason: 'start' });
  });

  it('a state that never ran a cycle missed nothing', () => {
    expect(decideStart({ cron, runOnStart: false, last: null, now })).toBeNull();
  });

  it('a scheduled time passed since the last cycle began: the missed run, once', () => {
    const decision = decideStart({ cron, runOnStart: false, last: { startedAt: at(2025, 3, 10, 9, 41), finished: true }, now });
    expect(decision).toMatchObject({ reason: 'missed', due: at(2025, 3, 10, 10, 40) });
    expect(decision!.message).toContain('was missed');
  });

  it('the last cycle began after the last scheduled time: nothing missed', () => {
    expect(decideStart({ cron, runOnStart: false, last: { startedAt: at(2025, 3, 10, 10, 40, 1), finished: true }, now })).toBeNull();
  });

  it('the last cycle never finished (killed, interrupted, stopped mid-way): run at start', () => {
    expect(decideStart({ cron, runOnStart: false, last: { startedAt: at(2025, 3, 10, 10, 41), finished: false }, now })).toMatchObject({ reason: 'missed' });
  });
});

describe('intervalOf', () => {
  it('is the longest gap between scheduled times', () => {
    expect(intervalOf('*/40 * * * *')).toBe(40 * 60_000); // 0 and 40 past: gaps of 40 and 20 minutes
    expect(intervalOf('*/2 * * * * *')).toBe(2000);
    expect(intervalOf('0 * * * *')).toBe(3_600_000);
  });
});
