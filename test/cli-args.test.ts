import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/output.js';
import { EntraSyncError } from '../src/errors.js';

describe('parseArgs', () => {
  it('reads values, flags, repeatable options and positionals', () => {
    const parsed = parseArgs(['--attr', 'a=1', 'x', '--json', '--attr=b=2', '--now', '2024-01-01'], {
      flags: ['json'], values: ['now'], repeatable: ['attr'],
    });
    expect(parsed.positionals).toEqual(['x']);
    expect(parsed.options).toEqual({ attr: ['a=1', 'b=2'], json: true, now: '2024-01-01' });
  });

  it('rejects an unknown option instead of ignoring a typo', () => {
    expect(() => parseArgs(['--dryrun'], { flags: ['dry-run'] })).toThrow(EntraSyncError);
    expect(() => parseArgs(['--dryrun'], { flags: ['dry-run'] })).toThrow(/unknown option --dryrun/);
  });

  it('rejects a value option with no value', () => {
    expect(() => parseArgs(['--now'], { values: ['now'] })).toThrow(/needs a value/);
  });
});
