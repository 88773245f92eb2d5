// `entra-sync expr`: what an admin sees for an expression, a mapping set, --json and --explain.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/expr.js';
import { EntraSyncError } from '../../src/errors.js';
import { ExpressionError } from '../../src/expressions/index.js';

const sampleUser = fileURLToPath(new URL('../../config/samples/user.json', import.meta.url));
let out = '';
let err = '';

beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { out += String(chunk); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { err += String(chunk); return true; });
});
afterEach(() => vi.restoreAllMocks());

describe('entra-sync expr', () => {
  it('evaluates the README expression against the sample user', async () => {
    expect(await run(['--user', sampleUser, 'Item(Split([userPrincipalName], "@"), 1)'])).toBe(0);
    expect(out).toBe('anna.meier\n');
  });

  it('lets --attr override the user file and set JSON values with :=', async () => {
    expect(await run(['--user', sampleUser, '--attr', 'userPrincipalName=bob@fabrikam.com', 'Item(Split([userPrincipalName], "@"), 2)'])).toBe(0);
    expect(out).toBe('fabrikam.com\n');
    out = '';
    expect(await run(['--attr', 'proxyAddresses:=["a","b","a"]', '--json', 'RemoveDuplicates([proxyAddresses])'])).toBe(0);
    expect(JSON.parse(out)).toEqual({ value: ['a', 'b'], flow: 'flow' });
  });

  it('uses --now for Now() and --default-domain for DefaultDomain()', async () => {
    expect(await run(['--now', '2024-05-01T08:00:00Z', '--default-domain', 'contoso.com', 'Join(" ", Now(), DefaultDomain())'])).toBe(0);
    expect(out).toBe('5/1/2024 8:00:00 AM contoso.com\n');
  });

  it('evaluates the DocuWare mapping set, one line per target attribute', async () => {
    expect(await run(['--user', sampleUser, '--mappings', 'docuware'])).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^userName\s+anna\.meier\s+← Item\(Split/);
    expect(lines[1]).toMatch(/^active\s+True\s+← Switch/);
    expect(lines[2]).toMatch(/^emails\[type eq "work"\]\.value\s+anna\.meier@contoso\.com\s+← Coalesce/);
    expect(lines[3]).toMatch(/^externalId\s+6e3c9a4b-2f1d-4c8e-9b7a-1d2e3f4a5b6c\s+← \[objectId\]/);
  });

  it('prints the mapping set as one JSON object with --json', async () => {
    expect(await run(['--user', sampleUser, '--mappings', 'docuware', '--json'])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ userName: { value: 'anna.meier' }, active: { value: 'True' } });
  });

  it('--explain shows every sub-result and the branches not taken', async () => {
    expect(await run(['--attr', 'upn=jo@contoso.com', '--explain', 'IIF(IsPresent([mail]), [mail], Item(Split([upn], "@"), 1))'])).toBe(0);
    expect(out).toBe([
      'IIF(IsPresent([mail]), [mail], Item(Split([upn], "@"), 1))   → "jo"',
      '├─ IsPresent([mail])   → false',
      '│  └─ [mail]   → null',
      '├─ [mail]   (not evaluated)',
      '└─ Item(Split([upn], "@"), 1)   → "jo"',
      '   ├─ Split([upn], "@")   → ["jo","contoso.com"]',
      '   │  ├─ [upn]   → "jo@contoso.com"',
      '   │  └─ "@"',
      '   └─ 1',
      '= jo',
      '',
    ].join('\n'));
  });

  it('--explain shows where a runtime error happened and exits 1', async () => {
    expect(await run(['--attr', 'd=soon', '--explain', 'DateAdd("d", 1, CDate([d]))'])).toBe(1);
    expect(out).toContain('├─ "d"');
    expect(out).toMatch(/└─ CDate\(\[d\]\) {3}✗ CDate: "soon" is not a date/);
    expect(err).toMatch(/^error EXPR_RUNTIME: CDate:/);
  });

  it('shows [redacted] for redacted values unless --reveal', async () => {
    expect(await run(['--attr', 'p=secret', 'Redact([p])'])).toBe(0);
    expect(out).toBe('[redacted]\n');
    out = '';
    expect(await run(['--attr', 'p=secret', '--reveal', 'Redact([p])'])).toBe(0);
    expect(out).toBe('secret\n');
    for (const flags of [['--explain'], ['--explain', '--json'], ['--json']]) {
      out = '';
      expect(await run(['--attr', 'p=secret', ...flags, 'Redact(ToUpper([p]))'])).toBe(0);
      expect(out).not.toMatch(/secret|SECRET/);
      expect(out).toContain('[redacted]');
    }
  });

  it('says when the attribute or the object would not flow', async () => {
    expect(await run(['IgnoreFlowIfNullOrEmpty([department])'])).toBe(0);
    expect(out).toMatch(/attribute not flowed/);
  });

  it('reports expression and usage errors as errors with a code, never as a crash', async () => {
    await expect(run(['Left([x]'])).rejects.toBeInstanceOf(ExpressionError);
    await expect(run(['--attr', 'novalue', '[x]'])).rejects.toMatchObject({ code: 'CLI_USAGE' });
    await expect(run(['--user', '/nonexistent/user.json', '[x]'])).rejects.toBeInstanceOf(EntraSyncError);
    await expect(run(['--now', 'yesterday', 'Now()'])).rejects.toMatchObject({ code: 'CLI_USAGE' });
    await expect(run(['--mappings', 'salesforce'])).rejects.toMatchObject({ code: 'CLI_USAGE' });
    expect(await run([])).toBe(2);
  });
});
