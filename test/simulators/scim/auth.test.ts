// Auth modes: two bearer tokens (rotation), OAuth2 client credentials (basic and post, expiry), HTTP basic.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScimSimulator, type ScimSimulator } from '../../../src/simulators/scim/index.js';
import { call } from './helpers.js';

async function token(sim: ScimSimulator, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sim.tokenUrl, { method: 'POST', ...init });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('SCIM simulator: auth', () => {
  let sim: ScimSimulator | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await sim?.close();
    sim = undefined;
  });

  it('accepts either of two bearer tokens and refuses others with 401 and a SCIM error', async () => {
    sim = await startScimSimulator({ tokens: ['primary', 'secondary'] });
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: 'primary' })).status).toBe(200);
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: 'secondary' })).status).toBe(200);
    const wrong = await call(sim.baseUrl, 'GET', '/Users', { token: 'scim-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: null })).status).toBe(401);
  });

  it('issues client-credentials tokens with client_secret_basic (form-encoded credentials)', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'app id', clientSecret: 's3cr:t+', tokenLifetimeSeconds: 120, scope: 'scim' } });
    const basic = Buffer.from(`${encodeURIComponent('app id')}:${encodeURIComponent('s3cr:t+')}`).toString('base64');
    const r = await token(sim, { headers: { ...form, Authorization: `Basic ${basic}` }, body: 'grant_type=client_credentials&scope=scim' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'scim' });
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: r.body.access_token as string })).status).toBe(200);
    // With oauth configured and no tokens option, the default static token is not accepted.
    expect((await call(sim.baseUrl, 'GET', '/Users')).status).toBe(401);
  });

  it('issues tokens with client_secret_post and refuses bad clients, grants and scopes', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'c', clientSecret: 's', scope: 'scim' } });
    const ok = await token(sim, { headers: form, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c', client_secret: 's' }).toString() });
    expect(ok.status).toBe(200);
    const badSecret = await token(sim, { headers: form, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c', client_secret: 'x' }).toString() });
    expect(badSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const badGrant = await token(sim, { headers: form, body: new URLSearchParams({ grant_type: 'password', client_id: 'c', client_secret: 's' }).toString() });
    expect(badGrant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    const badScope = await token(sim, { headers: form, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c', client_secret: 's', scope: 'other' }).toString() });
    expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    // The token request body (with the secret) is not kept in the request log.
    expect(sim.requests.filter((q) => q.path === '/oauth2/token').every((q) => q.body === undefined)).toBe(true);
  });

  it('answers 401 once a token has expired', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'c', clientSecret: 's', tokenLifetimeSeconds: 60 } });
    const r = await token(sim, { headers: form, body: 'grant_type=client_credentials&client_id=c&client_secret=s' });
    const access = r.body.access_token as string;
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: access })).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: access })).status).toBe(401);
  });

  it('invalidates every issued token on expireTokens()', async () => {
    sim = await startScimSimulator({ oauth: { clientId: 'c', clientSecret: 's' } });
    const first = (await token(sim, { headers: form, body: 'grant_type=client_credentials&client_id=c&client_secret=s' })).body.access_token as string;
    sim.expireTokens();
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: first })).status).toBe(401);
    const second = (await token(sim, { headers: form, body: 'grant_type=client_credentials&client_id=c&client_secret=s' })).body.access_token as string;
    expect((await call(sim.baseUrl, 'GET', '/Users', { token: second })).status).toBe(200);
  });

  it('accepts HTTP basic when configured', async () => {
    sim = await startScimSimulator({ basic: { username: 'svc', password: 'p:w' } });
    const good = await fetch(`${sim.baseUrl}/Users`, { headers: { Authorization: `Basic ${Buffer.from('svc:p:w').toString('base64')}` } });
    expect(good.status).toBe(200);
    const bad = await fetch(`${sim.baseUrl}/Users`, { headers: { Authorization: `Basic ${Buffer.from('svc:nope').toString('base64')}` } });
    expect(bad.status).toBe(401);
  });

  it('has no token endpoint unless oauth is configured', async () => {
    sim = await startScimSimulator();
    expect((await token(sim, { headers: form, body: 'grant_type=client_credentials' })).status).toBe(404);
  });
});
