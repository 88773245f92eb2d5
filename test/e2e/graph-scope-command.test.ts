import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/scope.js';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

describe('entra-sync scope', () => {
  let h: Harness;
  let configFile: string;
  beforeAll(async () => {
    h = await startHarness();
    configFile = path.join(h.dir, 'entra-sync.yaml');
    fs.writeFileSync(configFile, `
source:
  tenantId: ${h.sim.tenantId}
  clientId: ${h.sim.clientId}
  clientSecret: \${SIM_SECRET}
  servicePrincipalId: ${h.sim.servicePrincipalId}
  authorityHost: ${h.sim.authorityHost}
  graphBaseUrl: ${h.sim.graphBaseUrl}
  caFile: ${path.join(h.dir, 'sim-ca.pem')}
state: { path: ${path.join(h.dir, 'state.db')} }
targets:
  - name: wiki
    type: scim
    baseUrl: https://wiki.example.test/scim/v2
    auth: { type: bearer, token: t }
    users:
      mappings:
        - { target: userName, source: userPrincipalName, matchPriority: 1 }
        - { target: title, source: jobTitle }
      scopingFilters:
        - clauses:
            - { attribute: jobTitle, operator: IS NOT NULL }
`);
    process.env.SIM_SECRET = h.sim.clientSecret;
  });
  afterAll(async () => { delete process.env.SIM_SECRET; await h?.close(); });

  async function capture(argv: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
    try {
      const code = await run(argv);
      return { code, out };
    } finally {
      spy.mockRestore();
    }
  }

  it('--json lists exactly the assigned users and groups with the attributes the mappings use, and per-target filter results', async () => {
    const { code, out } = await capture(['--config', configFile, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(out) as { read: { full: boolean }; users: { id: string; attributes: Record<string, unknown>; targets: { wiki: string } }[]; groups: { id: string }[] };
    expect(result.read.full).toBe(true);
    const assigned = new Set<string>();
    for (const a of h.sim.tenant.assignments()) {
      if (a.principalType === 'User') assigned.add(a.principalId);
      if (a.principalType === 'Group') for (const m of h.sim.tenant.members(a.principalId)) assigned.add(m);
    }
    const liveUsers = new Set(h.sim.tenant.users().filter((u) => !h.sim.tenant.isSoftDeleted(u.id)).map((u) => u.id));
    expect(result.users.map((u) => u.id).sort()).toEqual([...assigned].filter((id) => liveUsers.has(id)).sort());
    expect(result.groups.map((g) => g.id).sort()).toEqual(h.sim.tenant.assignments().filter((a) => a.principalType === 'Group').map((a) => a.principalId).sort());
    const someone = result.users[0]!;
    const truth = h.sim.tenant.user(someone.id)!;
    expect(someone.attributes).toMatchObject({ userPrincipalName: truth.userPrincipalName, jobTitle: truth.jobTitle ?? null });
    expect(Object.keys(someone.attributes).sort()).toEqual(['accountEnabled', 'id', 'jobTitle', 'userPrincipalName'].filter((k) => k in someone.attributes).sort());
    for (const u of result.users) {
      const t = h.sim.tenant.user(u.id)!;
      const expected = t.jobTitle === null ? 'outOfScope' : t.accountEnabled ? 'inScope' : 'accountDisabled';
      expect(u.targets.wiki).toBe(expected);
    }
  });

  it('the table form reads incrementally the second time', async () => {
    const { code, out } = await capture(['--config', configFile]);
    expect(code).toBe(0);
    expect(out).toMatch(/users incremental/);
    expect(out).toMatch(/Users in scope: \d+/);
    expect(out).toMatch(/userPrincipalName\s+accountEnabled\s+jobTitle\s+appRoles\s+wiki/);
  });
});
