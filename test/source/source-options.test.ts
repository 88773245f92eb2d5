import { describe, expect, it } from 'vitest';
import { sourceOptionsSchema } from '../../src/source/options.js';

const base = { tenantId: 'contoso.onmicrosoft.com', clientId: 'c', servicePrincipalId: 's' };

describe('source options', () => {
  it('applies the documented defaults', () => {
    const o = sourceOptionsSchema.parse({ ...base, clientSecret: 'x' });
    expect(o).toMatchObject({ scope: 'assigned', flattenNestedGroups: false, cloud: 'global', select: [] });
  });

  it('requires exactly one credential and names the offending ones', () => {
    const none = sourceOptionsSchema.safeParse(base);
    expect(none.success).toBe(false);
    expect(none.error?.issues[0]?.message).toMatch(/give one credential/);
    const two = sourceOptionsSchema.safeParse({ ...base, clientSecret: 'x', federatedTokenFile: '/t' });
    expect(two.error?.issues[0]?.message).toBe('give only one credential, not clientSecret and federatedTokenFile');
    expect(two.error?.issues[0]?.path).toEqual(['federatedTokenFile']);
  });

  it('checks a certificate has one key and one certificate', () => {
    const r = sourceOptionsSchema.safeParse({ ...base, certificate: { privateKeyFile: '/k', privateKey: 'pem' } });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['certificate.privateKey', 'certificate.certificate']);
  });

  it('rejects plain-http authority overrides, unknown keys and multi-tenant authorities', () => {
    expect(sourceOptionsSchema.safeParse({ ...base, clientSecret: 'x', authorityHost: 'http://login.test' }).success).toBe(false);
    expect(sourceOptionsSchema.safeParse({ ...base, clientSecret: 'x', clientsecret: 'y' }).success).toBe(false);
    expect(sourceOptionsSchema.safeParse({ ...base, tenantId: 'common', clientSecret: 'x' }).success).toBe(false);
    expect(sourceOptionsSchema.safeParse({ ...base, clientSecret: 'x', authorityHost: 'https://login.test:8443' }).success).toBe(true);
  });
});
