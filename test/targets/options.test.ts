// Target connection options: defaults a config author can rely on and errors that name the field.
import { describe, expect, it } from 'vitest';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';
import { restTargetOptionsSchema } from '../../src/targets/rest/options.js';

describe('scim target options', () => {
  it('fills defaults for pacing, retry, dialect and membership chunks', () => {
    const o = scimTargetOptionsSchema.parse({ baseUrl: 'https://app.local/scim/v2', auth: { type: 'bearer', token: 't' } });
    expect(o).toMatchObject({
      concurrency: 8, timeoutMs: 30_000, compatibility: 'rfc7644', membershipChunkSize: 100, bulk: true,
      notFoundOnUpdate: 'recreate', retry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 }, discovery: {},
    });
  });

  it('defaults auth to none', () => {
    expect(scimTargetOptionsSchema.parse({ baseUrl: 'http://127.0.0.1:1/scim' }).auth).toEqual({ type: 'none' });
  });

  it('needs exactly one of token and tokenFile', () => {
    const none = scimTargetOptionsSchema.safeParse({ baseUrl: 'https://x', auth: { type: 'bearer' } });
    expect(none.success).toBe(false);
    expect(none.error?.issues[0]?.path).toEqual(['auth', 'token']);
    const both = scimTargetOptionsSchema.safeParse({ baseUrl: 'https://x', auth: { type: 'bearer', token: 'a', tokenFile: '/f' } });
    expect(both.success).toBe(false);
  });

  it('accepts oauth2 client credentials with client_secret_post and a secret file', () => {
    const o = scimTargetOptionsSchema.parse({
      baseUrl: 'https://x', auth: { type: 'oauth2', tokenUrl: 'https://x/token', clientId: 'c', clientSecretFile: '/run/s', clientAuth: 'client_secret_post' },
    });
    expect(o.auth).toMatchObject({ type: 'oauth2', clientAuth: 'client_secret_post' });
  });

  it('rejects a baseUrl that is not http(s)', () => {
    expect(scimTargetOptionsSchema.safeParse({ baseUrl: 'ftp://x' }).success).toBe(false);
  });
});

describe('rest target options', () => {
  it('keeps body templates and defaults id pointers', () => {
    const o = restTargetOptionsSchema.parse({
      baseUrl: 'https://app.local/api',
      operations: { users: { create: { method: 'POST', path: '/users', body: { login: '{{userName}}', flags: [true, 1] } } } },
    });
    expect(o.operations.users.create?.body).toEqual({ login: '{{userName}}', flags: [true, 1] });
    expect(o.operations.users.idPointer).toBe('/id');
    expect(o.operations.groups.lookup).toEqual({});
  });

  it('rejects a JSON pointer without a leading slash', () => {
    const r = restTargetOptionsSchema.safeParse({ baseUrl: 'https://x', operations: { users: { idPointer: 'id' } } });
    expect(r.success).toBe(false);
  });
});
