import { describe, expect, it } from 'vitest';
import { buildMsalConfiguration, certificateThumbprintSha256 } from '../../src/source/auth.js';
import { resolveEndpoints } from '../../src/source/clouds.js';
import { sourceOptionsSchema } from '../../src/source/options.js';
import { createSelfSignedCertificate } from '../../src/simulators/graph/index.js';
import { X509Certificate, createHash } from 'node:crypto';

const network = { sendGetRequestAsync: () => Promise.reject(new Error('no')), sendPostRequestAsync: () => Promise.reject(new Error('no')) };
const options = (extra: Record<string, unknown> = {}) => sourceOptionsSchema.parse({ tenantId: 'contoso.onmicrosoft.com', clientId: 'c', servicePrincipalId: 's', clientSecret: 'x', ...extra });

describe('MSAL configuration per cloud and override', () => {
  it('maps each cloud to its authority host, Graph root and scope', () => {
    expect(resolveEndpoints('global', {})).toMatchObject({ authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com', graphScope: 'https://graph.microsoft.com/.default', customAuthority: false, customGraphHost: false });
    expect(resolveEndpoints('usgov', {})).toMatchObject({ authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us', graphScope: 'https://graph.microsoft.us/.default' });
    expect(resolveEndpoints('china', {})).toMatchObject({ authorityHost: 'https://login.chinacloudapi.cn', graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn', customAuthority: false });
  });

  it('a Microsoft cloud uses MSAL built-in metadata (no knownAuthorities, no authorityMetadata)', () => {
    const cfg = buildMsalConfiguration(options({ cloud: 'usgov' }), { kind: 'secret', secret: 'x' }, { endpoints: resolveEndpoints('usgov', {}), networkClient: network });
    expect(cfg.auth.authority).toBe('https://login.microsoftonline.us/contoso.onmicrosoft.com');
    expect(cfg.auth.knownAuthorities).toBeUndefined();
    expect(cfg.auth.authorityMetadata).toBeUndefined();
  });

  it('an authority override disables instance discovery and OpenID metadata fetches', () => {
    const endpoints = resolveEndpoints('global', { authorityHost: 'https://login.corp.test:8443/', graphBaseUrl: 'https://graph.corp.test:9443' });
    expect(endpoints).toMatchObject({ customAuthority: true, customGraphHost: true, graphScope: 'https://graph.microsoft.com/.default' });
    const cfg = buildMsalConfiguration(options(), { kind: 'secret', secret: 'x' }, { endpoints, networkClient: network });
    expect(cfg.auth.knownAuthorities).toEqual(['login.corp.test:8443']);
    expect(JSON.parse(cfg.auth.authorityMetadata!)).toMatchObject({ token_endpoint: 'https://login.corp.test:8443/contoso.onmicrosoft.com/oauth2/v2.0/token' });
    expect(cfg.system?.networkClient).toBe(network);
  });

  it('certificate credentials use the SHA-256 thumbprint and send x5c only when asked', () => {
    const { certPem, keyPem } = createSelfSignedCertificate();
    const der = new X509Certificate(certPem).raw;
    expect(certificateThumbprintSha256(certPem)).toBe(createHash('sha256').update(der).digest('hex').toUpperCase());
    const endpoints = resolveEndpoints('global', {});
    for (const sendX5c of [false, true]) {
      const cfg = buildMsalConfiguration(options(), { kind: 'certificate', privateKey: keyPem, certificate: certPem, sendX5c }, { endpoints, networkClient: network });
      expect(cfg.auth.clientCertificate?.thumbprintSha256).toBe(certificateThumbprintSha256(certPem));
      expect(cfg.auth.clientCertificate?.thumbprint).toBeUndefined();
      expect(cfg.auth.clientCertificate?.x5c === undefined).toBe(!sendX5c);
    }
  });
});
