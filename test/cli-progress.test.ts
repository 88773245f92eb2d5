import { describe, expect, it } from 'vitest';
import { describeProgress, progressLine } from '../src/cli/progress.js';

describe('progress line', () => {
  it('shows every read phase seen so far: assignments, users and groups are read side by side', () => {
    const written: string[] = [];
    const line = progressLine({ isTTY: true, columns: 200, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream, 0);
    line.onProgress!({ stage: 'read', phase: 'users', pages: 3, items: 600 });
    line.onProgress!({ stage: 'read', phase: 'groups', pages: 1, items: 50 });
    line.onProgress!({ stage: 'read', phase: 'users', pages: 4, items: 800 });
    expect(written.at(-1)).toBe('\rreading Entra: users 800 (4 pages), groups 50 (1 pages)\x1b[K');
    line.clear();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });

  it('shows the read and the apply together while a long users round is applied as it is read', () => {
    const written: string[] = [];
    const line = progressLine({ isTTY: true, columns: 200, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream, 0);
    line.onProgress!({ stage: 'read', phase: 'users', pages: 30, items: 6000 });
    line.onProgress!({ stage: 'apply', target: 'docuware', planned: 5000, sent: 120, failed: 0 });
    expect(written.at(-1)).toBe('\rread from Entra: users 6,000 (30 pages) · docuware: 120 of 5,000 operations sent\x1b[K');
    line.onProgress!({ stage: 'read', phase: 'users', pages: 31, items: 6200 });
    expect(written.at(-1)).toBe('\rread from Entra: users 6,200 (31 pages) · docuware: 120 of 5,000 operations sent\x1b[K');
  });

  it('describes one step on its own, and an apply', () => {
    expect(describeProgress({ stage: 'read', phase: 'assignments', pages: 2, items: 1500 })).toBe('reading Entra: assignments 1,500 (2 pages)');
    expect(describeProgress({ stage: 'apply', target: 'docuware', planned: 1200, sent: 300, failed: 2 })).toBe('docuware: 300 of 1,200 operations sent, 2 failed');
  });

  it('shows every target whose cycle runs, side by side, with the latest count of each', () => {
    const written: string[] = [];
    const line = progressLine({ isTTY: true, columns: 200, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream, 0);
    line.onProgress!({ stage: 'apply', target: 'parent', planned: 900, sent: 10, failed: 0 });
    line.onProgress!({ stage: 'apply', target: 'child', planned: 900, sent: 4, failed: 0 });
    line.onProgress!({ stage: 'apply', target: 'parent', planned: 900, sent: 11, failed: 1 });
    expect(written.at(-1)).toBe('\rparent: 11 of 900 operations sent, 1 failed · child: 4 of 900 operations sent\x1b[K');
  });

  it('draws nothing when the output is not a terminal', () => {
    const line = progressLine({ isTTY: false } as unknown as NodeJS.WriteStream);
    expect(line.onProgress).toBeUndefined();
  });
});
