// `${ENV}` interpolation: values from the environment, defaults, escapes, and missing variables reported
// by path and name without any value.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { issuesOf } from './helpers.js';

const text = `source:
  tenantId: \${TENANT}
  clientId: app
  clientSecret: \${ENTRA_SECRET}
  servicePrincipalId: sp
state: { path: "\${STATE_DIR:-/data}/entra-sync.db" }
targets:
  - name: wiki
    type: scim
    preset: scim
    baseUrl: https://\${WIKI_HOST}/scim
    headers: { X-Literal: "$\${NOT_A_VAR}" }
    auth: { type: bearer, token: "\${WIKI_TOKEN}", secondaryToken: "\${WIKI_TOKEN_2:-}" }
`;

describe('environment interpolation', () => {
  it('replaces references, applies defaults, keeps $${ literal, drops optional keys that come out empty', () => {
    const config = parseConfig(text, 'c.yaml', { TENANT: 'contoso.onmicrosoft.com', ENTRA_SECRET: 'shh', WIKI_HOST: 'wiki.local', WIKI_TOKEN: 'tok' });
    expect(config.source.tenantId).toBe('contoso.onmicrosoft.com');
    expect(config.source.clientSecret).toBe('shh');
    expect(config.state.path).toBe('/data/entra-sync.db');
    const target = config.targets[0]!;
    expect(target.baseUrl).toBe('https://wiki.local/scim');
    expect(target.headers).toEqual({ 'X-Literal': '${NOT_A_VAR}' });
    expect(target.auth).toEqual({ type: 'bearer', token: 'tok' });
  });

  it('a default applies to an empty variable too, as in the shell', () => {
    const config = parseConfig(text, 'c.yaml', { TENANT: 't.example', ENTRA_SECRET: 's', WIKI_HOST: 'w', WIKI_TOKEN: 't', STATE_DIR: '' });
    expect(config.state.path).toBe('/data/entra-sync.db');
  });

  it('every missing variable is reported with its path and name, never with any value', () => {
    const err = issuesOf(text, { TENANT: 'contoso.onmicrosoft.com', WIKI_HOST: 'wiki.local' });
    expect(err.issues).toEqual([
      { path: 'source.clientSecret', line: 4, column: 17, message: 'environment variable ENTRA_SECRET is not set (write ${ENTRA_SECRET:-default} for a default)' },
      { path: 'targets[0].auth.token', line: 13, column: 34, message: 'environment variable WIKI_TOKEN is not set (write ${WIKI_TOKEN:-default} for a default)' },
    ]);
  });

  it('a malformed reference is an error', () => {
    const err = issuesOf(text.replace('${TENANT}', '${TEN ANT}'), { ENTRA_SECRET: 's', WIKI_HOST: 'w', WIKI_TOKEN: 't' });
    expect(err.issues[0]).toMatchObject({ path: 'source.tenantId', message: '"${TEN ANT}" is not a valid environment reference: expected ${NAME} or ${NAME:-default}' });
  });

  it('a value taken from the environment is never echoed in a validation error', () => {
    const err = issuesOf(text, { TENANT: 'contoso.onmicrosoft.com', ENTRA_SECRET: 's', WIKI_HOST: 'not a host name', WIKI_TOKEN: 'tok' });
    expect(err.issues[0]!.path).toBe('targets[0].baseUrl');
    expect(err.message).not.toContain('not a host name');
  });
});
