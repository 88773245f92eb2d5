import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

function selfSignedWithForge(): { keyPem: string; certPem: string } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: 'entra-sync test client' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { keyPem: forge.pki.privateKeyToPem(keys.privateKey), certPem: forge.pki.certificateToPem(cert) };
}

/** A JWT-shaped projected service-account token (the simulator checks the shape; the test decides what to accept). */
function saToken(jti: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', kid: 'k8s' })}.${b64({ iss: 'https://oidc.example.test', sub: 'system:serviceaccount:sync:entra-sync', aud: 'api://AzureADTokenExchange', jti, exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
}

describe('authentication modes over the real MSAL', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ tenant: { users: 8, groups: 2, membersPerGroup: 3, seed: 21 }, pageSize: 50 }); });
  afterAll(async () => { await h?.close(); });
  const tokenRequests = () => h.sim.requests.filter((r) => r.route === 'token').length;

  it('client secret inline', async () => {
    await h.reader.read();
    expect([...h.store.allUsers()].length).toBe(8);
  });

  it('client secret file is re-read, so a rotated secret is used without a restart (and never shown in errors)', async () => {
    const file = path.join(h.dir, 'secret');
    fs.writeFileSync(file, `${h.sim.clientSecret}\n`);
    const reader = h.newReader({ clientSecret: undefined, clientSecretFile: file });
    await reader.read({ full: true });
    fs.writeFileSync(file, 'rotated-but-wrong-secret');
    h.sim.expireAccessTokens(); // the cached token is refused, so a new one must be requested
    const err = await reader.read().then(() => undefined, (e: unknown) => e as Error & { code: string });
    expect(err?.code).toBe('AUTH_FAILED');
    expect(err?.message).toContain('invalid_client');
    expect(err?.message).not.toContain('rotated-but-wrong-secret');
    fs.writeFileSync(file, h.sim.clientSecret);
    await expect(reader.read()).resolves.toMatchObject({ full: false });
  });

  it('certificate (PEM key and certificate files, SHA-256 thumbprint), with and without x5c', async () => {
    const { keyPem, certPem } = selfSignedWithForge();
    const keyFile = path.join(h.dir, 'client.key');
    const certFile = path.join(h.dir, 'client.crt');
    fs.writeFileSync(keyFile, keyPem);
    fs.writeFileSync(certFile, certPem);
    const untrusted = h.newReader({ clientSecret: undefined, certificate: { privateKeyFile: keyFile, certificateFile: certFile } });
    await expect(untrusted.read({ full: true })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    h.sim.trustCertificate(certPem);
    for (const sendX5c of [false, true]) {
      const reader = h.newReader({ clientSecret: undefined, certificate: { privateKeyFile: keyFile, certificateFile: certFile, sendX5c } });
      const before = tokenRequests();
      await expect(reader.read({ full: true })).resolves.toMatchObject({ full: true });
      expect(tokenRequests()).toBe(before + 1);
    }
  });

  it('federated token file: the assertion callback re-reads the file, so a rotated token is picked up', async () => {
    const file = path.join(h.dir, 'azure-identity-token');
    const first = saToken('first');
    const second = saToken('second');
    let accepted = first;
    const presented: string[] = [];
    h.sim.acceptFederatedAssertion((jwt) => { presented.push(jwt); return jwt === accepted; });
    fs.writeFileSync(file, accepted);
    const reader = h.newReader({ clientSecret: undefined, federatedTokenFile: file });
    await reader.read({ full: true });
    expect(presented.at(-1)).toBe(first);

    // The kubelet rotates the token; the old one is no longer accepted.
    accepted = second;
    fs.writeFileSync(file, accepted);
    h.sim.expireAccessTokens();
    await expect(reader.read()).resolves.toMatchObject({ full: false });
    expect(presented.at(-1)).toBe(second);
  });
});
