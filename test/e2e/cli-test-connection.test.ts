// `entra-sync test-connection`, the admin's Test Connection button, against the Graph simulator and SCIM
// simulators in the docuware and document360 profiles: every check passes on a good configuration, and
// each kind of mistake (wrong token, wrong OAuth2 secret, nothing listening, unknown host, wrong Graph
// secret, wrong servicePrincipalId) is a ✗ line saying why, with exit 1, no secret printed, nothing written.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as testConnection from '../../src/cli/test-connection.js';
import { startScimSimulator, type ScimSimulator } from '../../src/simulators/scim/index.js';
import { runCommand, startWorld, type World } from '../runtime-world.js';

/** Writes a variant of the world's config: `edit` rewrites the YAML text. */
function variant(world: World, name: string, edit: (yaml: string) => string): string {
  const file = path.join(world.dir, `${name}.yaml`);
  fs.writeFileSync(file, edit(fs.readFileSync(world.configFile, 'utf8')));
  return file;
}

/** Replaces one target's baseUrl and auth block. */
function retarget(yaml: string, target: string, baseUrl: string, auth: string): string {
  const block = new RegExp(`(  - name: ${target}\\n(?:    .*\\n)*?)    baseUrl: .*\\n    auth:\\n      type: bearer\\n      token: scim-token\\n`);
  expect(block.test(yaml)).toBe(true);
  return yaml.replace(block, `$1    baseUrl: ${baseUrl}\n    auth:\n${auth.split('\n').map((l) => `      ${l}`).join('\n')}\n`);
}

describe('entra-sync test-connection', () => {
  let world: World;
  let oauthDocuware: ScimSimulator;

  beforeAll(async () => {
    world = await startWorld({ targets: { docuware: 'docuware', document360: 'document360' } });
    oauthDocuware = await startScimSimulator({ profile: 'docuware', oauth: { clientId: 'dw-client', clientSecret: 'dw-oauth-secret' } });
  });
  afterAll(async () => {
    await oauthDocuware?.close();
    await world?.close();
  });

  it('passes every check of a good configuration, one ✓ line each, sends only reads and prints no secret', async () => {
    const { code, stdout } = await runCommand(testConnection, ['--config', world.configFile]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Microsoft Graph: tenant ${world.graph.tenantId}, client ${world.graph.clientId}, enterprise app ${world.graph.servicePrincipalId}`);
    for (const check of ['token', 'service principal', 'assignments', 'users']) expect(stdout).toMatch(new RegExp(`\\n  ✓ ${check}: `));
    expect(stdout).toMatch(/✓ service principal: enterprise app ".+" \(object id /);
    expect(stdout).toContain('target docuware (scim, preset docuware)');
    expect(stdout).toContain('target document360 (scim, preset document360)');
    expect(stdout.match(/✓ ServiceProviderConfig: capabilities: PATCH/g)).toHaveLength(2);
    expect(stdout.match(/✓ auth: bearer token accepted; a userName filter for a random value answered an empty list/g)).toHaveLength(2);
    expect(stdout).not.toContain('✗');
    expect(stdout).toMatch(/All \d+ checks passed\.\n$/);
    expect(stdout).not.toContain('scim-token');
    expect(stdout).not.toContain(world.graph.clientSecret);
    for (const sim of Object.values(world.scim)) {
      expect(sim.requests.length).toBeGreaterThan(0);
      expect(sim.requests.every((r) => r.method === 'GET')).toBe(true);
      expect(sim.users()).toHaveLength(0);
    }
  });

  it('--json gives one section per end with each check, and --target limits the targets', async () => {
    const { code, stdout } = await runCommand(testConnection, ['--config', world.configFile, '--target', 'document360', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { ok: boolean; sections: { kind: string; name: string; checks: { check: string; ok: boolean }[] }[] };
    expect(report.ok).toBe(true);
    expect(report.sections.map((s) => `${s.kind}:${s.name}`)).toEqual(['graph:Microsoft Graph', 'target:document360']);
    expect(report.sections[1]!.checks.map((c) => c.check)).toEqual(['ServiceProviderConfig', 'auth']);
    await expect(runCommand(testConnection, ['--config', world.configFile, '--target', 'nope'])).rejects.toMatchObject({ code: 'TARGET_UNKNOWN' });
  });

  it('DocuWare with OAuth2 client credentials: the token endpoint issues a token and the SCIM endpoint accepts it', async () => {
    const file = variant(world, 'oauth', (y) => retarget(y, 'docuware', oauthDocuware.baseUrl, `type: oauth2\ntokenUrl: ${oauthDocuware.tokenUrl}\nclientId: dw-client\nclientSecret: dw-oauth-secret`));
    const { code, stdout } = await runCommand(testConnection, ['--config', file, '--target', 'docuware', '--skip-graph']);
    expect(code).toBe(0);
    expect(stdout).toContain('OAuth2 client credentials (client dw-client)');
    expect(stdout).toContain(`✓ token endpoint: ${oauthDocuware.tokenUrl} issued an access token for client dw-client`);
    expect(stdout).toContain('✓ auth: OAuth2 client credentials (client dw-client) accepted');
    expect(stdout).not.toContain('dw-oauth-secret');
  });

  it('a wrong OAuth2 client secret: ✗ the token endpoint refused the client, exit 1, the secret not printed', async () => {
    const file = variant(world, 'oauth-wrong', (y) => retarget(y, 'docuware', oauthDocuware.baseUrl, `type: oauth2\ntokenUrl: ${oauthDocuware.tokenUrl}\nclientId: dw-client\nclientSecret: not-the-secret`));
    const { code, stdout } = await runCommand(testConnection, ['--config', file, '--target', 'docuware', '--skip-graph']);
    expect(code).toBe(1);
    expect(stdout).toContain(`✗ token endpoint: OAuth2 token endpoint ${oauthDocuware.tokenUrl} refused client dw-client (HTTP 401 invalid_client): check the client id and secret`);
    expect(stdout).toContain('1 of 1 checks failed.');
    expect(stdout).not.toContain('not-the-secret');
  });

  it('Document360 before its SSO configuration is saved: ✗ token rejected, and the guide\'s advice', async () => {
    const file = variant(world, 'd360-wrong', (y) => retarget(y, 'document360', world.scim.document360!.baseUrl, 'type: bearer\ntoken: unsaved-sso-token'));
    const { code, stdout } = await runCommand(testConnection, ['--config', file, '--target', 'document360']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ token: /); // Graph is fine: only the target fails
    expect(stdout).toContain('✗ auth: token rejected (HTTP 401 at GET /scim/v2/ServiceProviderConfig): Document360 accepts the secret token only once the SSO configuration with "Enable SCIM provisioning" is saved');
    expect(stdout).not.toContain('unsaved-sso-token');
  });

  it('nothing listening or an unknown host: ✗ names the URL and what went wrong', async () => {
    const refused = variant(world, 'refused', (y) => retarget(y, 'docuware', 'http://127.0.0.1:1/scim/v2', 'type: bearer\ntoken: scim-token'));
    const a = await runCommand(testConnection, ['--config', refused, '--target', 'docuware', '--skip-graph']);
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('✗ connection: http://127.0.0.1:1/scim/v2: connection refused by 127.0.0.1:1');
    const unknown = variant(world, 'dns', (y) => retarget(y, 'docuware', 'http://docuware.entra-sync-test.invalid/scim/v2', 'type: bearer\ntoken: scim-token'));
    const b = await runCommand(testConnection, ['--config', unknown, '--target', 'docuware', '--skip-graph']);
    expect(b.code).toBe(1);
    expect(b.stdout).toMatch(/✗ connection: http:\/\/docuware\.entra-sync-test\.invalid\/scim\/v2: host name docuware\.entra-sync-test\.invalid not found \(DNS E/);
  });

  it('a wrong Graph client secret: ✗ token, and the targets are still checked', async () => {
    const file = variant(world, 'graph-secret', (y) => y.replace('clientSecret: ${TEST_ENTRA_SECRET}', 'clientSecret: wrong-graph-secret'));
    const { code, stdout } = await runCommand(testConnection, ['--config', file]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ token: the identity platform refused the client credentials: .*invalid_client/);
    expect(stdout).not.toMatch(/service principal:/);
    expect(stdout.match(/✓ auth: /g)).toHaveLength(2);
    expect(stdout).not.toContain('wrong-graph-secret');
  });

  it('a servicePrincipalId that is not the enterprise app\'s object id: ✗ service principal, with where to find the right one', async () => {
    const file = variant(world, 'graph-sp', (y) => y.replace(`servicePrincipalId: ${world.graph.servicePrincipalId}`, `servicePrincipalId: ${world.graph.clientId}`));
    const { code, stdout } = await runCommand(testConnection, ['--config', file, '--target', 'docuware']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ token: app-only token issued by .* \(client secret\)/);
    expect(stdout).toContain(`✗ service principal: no service principal with object id ${world.graph.clientId} in tenant ${world.graph.tenantId}: servicePrincipalId must be the enterprise app's Object ID`);
  });
});
