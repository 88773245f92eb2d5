// The real @azure/msal-node 7 ConfidentialClientApplication acquires tokens from the simulator with a client
// secret, a certificate (x5t#S256 / PS256 and x5t / RS256) and a federated assertion, never calling Microsoft.
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSelfSignedCertificate, startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, graphGet, RecordingNetworkClient, sample, trustingAgent } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: { users: 5, groups: 1 } });
  agent = trustingAgent(sim.caPem);
});

afterAll(async () => {
  await sim.close();
  await agent.close();
});

function msalConfig(auth: Partial<Configuration['auth']>, network: RecordingNetworkClient): Configuration {
  return {
    auth: {
      clientId: sim.clientId,
      authority: `${sim.authorityHost}/${sim.tenantId}`,
      knownAuthorities: [new URL(sim.authorityHost).host],
      ...auth,
    },
    system: { networkClient: network },
  };
}

const scopes = () => [`${sim.graphBaseUrl}/.default`];

describe('token endpoint with the real msal-node', () => {
  test('client secret: the token works on Graph and MSAL only talked to the simulator', async () => {
    const network = new RecordingNetworkClient(agent);
    const cca = new ConfidentialClientApplication(msalConfig({ clientSecret: sim.clientSecret }, network));
    const tokensBefore = sim.counters.tokens;
    const result = await cca.acquireTokenByClientCredential({ scopes: scopes() });
    expect(result?.accessToken).toBeTruthy();
    expect(result?.tokenType).toBe('Bearer');
    expect(result!.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
    expect(sim.counters.tokens).toBe(tokensBefore + 1);
    // OpenID metadata from the simulator, then the token POST; nothing to login.microsoftonline.com.
    expect(network.urls.every((u) => u.includes(new URL(sim.authorityHost).host))).toBe(true);
    expect(network.urls.some((u) => u.startsWith(`GET ${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`))).toBe(true);
    expect(network.urls.some((u) => u.startsWith(`POST ${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`))).toBe(true);

    const me = await graphGet(sim, agent, result!.accessToken, `servicePrincipals/${sim.servicePrincipalId}`);
    expect(me.status).toBe(200);

    // The second call is served from MSAL's cache: no second token request.
    const again = await cca.acquireTokenByClientCredential({ scopes: scopes() });
    expect(again?.fromCache).toBe(true);
    expect(sim.counters.tokens).toBe(tokensBefore + 1);
  });

  test('wrong client secret: MSAL raises invalid_client with the AADSTS code', async () => {
    const network = new RecordingNetworkClient(agent);
    const cca = new ConfidentialClientApplication(msalConfig({ clientSecret: 'not-the-secret' }, network));
    await expect(cca.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toMatchObject({ errorCode: 'invalid_client' });
  });

  test('certificate with thumbprintSha256 (PS256, x5t#S256) and with the SHA-1 thumbprint (RS256, x5t)', async () => {
    const cert = createSelfSignedCertificate('entra-sync test');
    sim.trustCertificate(cert.certPem);
    for (const clientCertificate of [
      { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem },
      { thumbprint: cert.thumbprintSha1, privateKey: cert.keyPem, x5c: cert.certPem },
    ]) {
      const network = new RecordingNetworkClient(agent);
      const cca = new ConfidentialClientApplication(msalConfig({ clientCertificate }, network));
      const result = await cca.acquireTokenByClientCredential({ scopes: scopes() });
      expect((await graphGet(sim, agent, result!.accessToken, `servicePrincipals/${sim.servicePrincipalId}`)).status).toBe(200);
    }
  });

  test('a certificate the app does not trust is refused', async () => {
    const stranger = createSelfSignedCertificate('stranger');
    const cca = new ConfidentialClientApplication(
      msalConfig({ clientCertificate: { thumbprintSha256: stranger.thumbprintSha256, privateKey: stranger.keyPem } }, new RecordingNetworkClient(agent)),
    );
    await expect(cca.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toMatchObject({ errorCode: 'invalid_client' });
  });

  test('federated assertion callback: accepted only when the registered check passes, re-read on each request', async () => {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    // A projected Kubernetes service-account token's shape (graph-samples/57): no x5t, so it is a federated assertion.
    const saToken = (sig: string) =>
      `${part({ alg: 'RS256', kid: 'k8s-sa-signing-key-1' })}.${part({ aud: ['api://AzureADTokenExchange'], sub: 'system:serviceaccount:idm:entra-sync' })}.${sig}`;
    let current = saToken('sig-1');
    const seen: string[] = [];
    sim.acceptFederatedAssertion((jwt) => {
      seen.push(jwt);
      return jwt.endsWith('sig-2');
    });
    const cca = new ConfidentialClientApplication(msalConfig({ clientAssertion: async () => current }, new RecordingNetworkClient(agent)));
    await expect(cca.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toMatchObject({ errorCode: 'invalid_client' });
    current = current.replace('sig-1', 'sig-2'); // the kubelet rotated the projected token
    const result = await cca.acquireTokenByClientCredential({ scopes: scopes(), skipCache: true });
    expect(result?.accessToken).toBeTruthy();
    expect(seen).toEqual([expect.stringMatching(/sig-1$/), expect.stringMatching(/sig-2$/)]);
  });

  test('cloudDiscoveryMetadata + authorityMetadata: the token POST is the only request', async () => {
    const host = new URL(sim.authorityHost).host;
    const network = new RecordingNetworkClient(agent);
    const metadata = await (await import('undici')).fetch(`${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`, { dispatcher: agent });
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        authority: `${sim.authorityHost}/${sim.tenantId}`,
        cloudDiscoveryMetadata: JSON.stringify({
          tenant_discovery_endpoint: `${sim.authorityHost}/{tenant}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        }),
        authorityMetadata: JSON.stringify(await metadata.json()),
      },
      system: { networkClient: network },
    });
    await cca.acquireTokenByClientCredential({ scopes: scopes() });
    expect(network.urls).toEqual([expect.stringMatching(new RegExp(`^POST ${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`))]);
  });

  test('a success response has the keys of graph-samples/50 and no Retry-After', async () => {
    const { fetch } = await import('undici');
    const response = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret, grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' }).toString(),
      dispatcher: agent,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(Object.keys(sample('50-token-response-success')));
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    // Tokens for graph.microsoft.com are accepted too (a reader may keep the public-cloud scope).
    expect((await graphGet(sim, agent, body.access_token as string, 'users/delta')).status).toBe(200);
    expect(await accessToken(sim, agent)).not.toBe(body.access_token);
  });

  test('instance discovery served the way MSAL asks for it names the simulator as the only cloud', async () => {
    const { fetch } = await import('undici');
    const url = `${sim.authorityHost}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/authorize`)}`;
    const body = (await (await fetch(url, { dispatcher: agent })).json()) as Record<string, unknown>;
    const host = new URL(sim.authorityHost).host;
    expect(body).toEqual({
      tenant_discovery_endpoint: `${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });
});
