import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/output.js';
import { UsageError } from '../src/errors.js';

describe('parseArgs', () => {
  it('reads values, flags, repeatable options and positionals', () => {
    const parsed = parseArgs(['--attr', 'a=1', 'x', '--json', '--attr=b=2', '--now', '2024-01-01'], {
      flags: ['json'], values: ['now'], repeatable: ['attr'], positionals: true,
    });
    expect(parsed.positionals).toEqual(['x']);
    expect(parsed.options).toEqual({ attr: ['a=1', 'b=2'], json: true, now: '2024-01-01' });
  });

  it('rejects an unknown option instead of ignoring a typo', () => {
    expect(() => parseArgs(['--dryrun'], { flags: ['dry-run'] })).toThrow(UsageError);
    expect(() => parseArgs(['--dryrun'], { flags: ['dry-run'] })).toThrow(/unknown option --dryrun/);
  });

  it('rejects a stray argument when the command takes none', () => {
    expect(() => parseArgs(['--json', 'extra'], { flags: ['json'] })).toThrow(/unexpected argument "extra"/);
  });

  it('rejects a value option with no value, and a value given to a flag', () => {
    expect(() => parseArgs(['--now'], { values: ['now'] })).toThrow(/option --now needs a value/);
    expect(() => parseArgs(['--json=yes'], { flags: ['json'] })).toThrow(/option --json takes no value/);
  });

  it('takes -c for --config and -h for --help', () => {
    expect(parseArgs(['-c', 'x.yaml', '-h'], { values: ['config'] }).options).toEqual({ config: 'x.yaml', help: true });
    expect(() => parseArgs(['-c'], { values: ['config'] })).toThrow(/option --config needs a value/);
  });

  it('gives an optional-value option alone as true and with = as its value, never taking the next argument', () => {
    expect(parseArgs(['--wait'], { optional: ['wait'] }).options).toEqual({ wait: true });
    expect(parseArgs(['--wait=30'], { optional: ['wait'] }).options).toEqual({ wait: '30' });
    expect(parseArgs(['--wait', 'plan-1'], { optional: ['wait'], positionals: true })).toEqual({ positionals: ['plan-1'], options: { wait: true } });
    expect(() => parseArgs(['--wait', '30'], { optional: ['wait'] })).toThrow(/unexpected argument "30"/);
    expect(() => parseArgs(['--wait='], { optional: ['wait'] })).toThrow(/--wait= needs a value/);
  });
});
