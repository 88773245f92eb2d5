// `entra-sync validate`: OK with a summary for a good file, every problem for a bad one, no secrets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/validate.js';
import { ConfigError } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'entra-sync-validate-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function capture(): { out: () => string } {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  return { out: () => text };
}

afterEach(() => {
  vi.restoreAllMocks();
});

const good = `source:
  tenantId: contoso.onmicrosoft.com
  clientId: app
  clientSecret: super-secret-value
  servicePrincipalId: sp
targets:
  - name: docuware
    type: scim
    preset: docuware
    baseUrl: https://user:pw@dw.example/DocuWare/Services/UserProvisioningService/generic-x/scim?code=abc
    auth: { type: bearer, token: bearer-secret, secondaryTokenFile: /nonexistent/secondary }
`;

describe('entra-sync validate', () => {
  it('prints OK and a summary of each target, without secrets', async () => {
    const { out } = capture();
    expect(await run(['--config', file('good.yaml', good)])).toBe(0);
    const text = out();
    expect(text).toMatch(/^OK .*good\.yaml\n/);
    expect(text).toContain('target docuware (scim, preset docuware): https://dw.example/DocuWare/Services/UserProvisioningService/generic-x/scim, auth bearer');
    expect(text).toContain('users: 6 mappings, match on userName, actions create/update/disable, hard delete → disable');
    expect(text).toContain('groups: 1 mappings, match on displayName, actions create/update, additive membership');
    expect(text).toContain('deletion threshold: 500 per cycle');
    expect(text).toContain('warning: targets[0].auth.secondaryTokenFile: file /nonexistent/secondary is not readable here');
    for (const secret of ['super-secret-value', 'bearer-secret', 'pw@', 'code=abc']) expect(text).not.toContain(secret);
  });

  it('throws the ConfigError with every problem (main prints it and exits 1)', async () => {
    const bad = good.replace('preset: docuware', 'preset: docuware\n    users: { actions: [create, explode] }\n    dryRun: maybe');
    await expect(run(['--config', file('bad.yaml', bad)])).rejects.toBeInstanceOf(ConfigError);
    await expect(run(['--config', file('bad.yaml', bad)])).rejects.toMatchObject({
      issues: [
        { path: 'targets[0].users.actions[1]', line: 10 },
        { path: 'targets[0].dryRun', line: 11, message: 'expected boolean, found "maybe"' },
      ],
    });
  });

  it('--json prints the problems as data', async () => {
    const { out } = capture();
    expect(await run(['--config', file('bad2.yaml', good.replace('type: scim', 'type: soap')), '--json'])).toBe(1);
    expect(JSON.parse(out())).toMatchObject({ ok: false, issues: [{ path: 'targets[0].type', message: 'expected one of "scim", "rest", found "soap"' }] });
  });
});
