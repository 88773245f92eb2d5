import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackTls } from '../../src/simulators/tls.js';
import { startHarness, type Harness } from '../source/e2e-helpers.js';

type BadMode = 'html200' | 'html502' | 'truncatedJson' | 'noValue' | 'brokenLink' | 'foreignLink' | 'noLinks' | 'itemWithoutId';

/**
 * A loopback HTTPS "Graph" (tokens still come from the simulator): a valid two-page users round, and an
 * incremental round whose second page is broken in the way the test chooses.
 */
async function startFakeGraph(): Promise<{ baseUrl: string; mode: { bad: BadMode }; close(): Promise<void> }> {
  const tls = loopbackTls();
  const mode = { bad: 'html200' as BadMode };
  let base = '';
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname.includes('/appRoleAssignedTo')) return json(res, 200, { value: [{ id: 'a1', principalId: 'u1', principalType: 'User', appRoleId: '00000000-0000-0000-0000-000000000000' }] });
    if (url.pathname.includes('/groups/')) return json(res, 200, { value: [], '@odata.deltaLink': `${base}/v1.0/groups/delta?$deltatoken=g1` });
    const q = url.searchParams;
    if (q.get('$skiptoken') === 'p2') {
      return json(res, 200, { value: [{ id: 'u3', userPrincipalName: 'u3@x.test', displayName: 'Three' }], '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d1` });
    }
    if (q.get('$deltatoken') === 'd1') {
      return json(res, 200, { value: [{ id: 'u1', displayName: 'Changed in the broken round' }], '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=bad` });
    }
    if (q.get('$skiptoken') === 'bad') {
      switch (mode.bad) {
        case 'html200': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>Proxy Authentication Required</h1></body></html>');
        case 'html502': return res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
        case 'truncatedJson': return json(res, 200, '{"value": [{"id": "u2"');
        case 'noValue': return json(res, 200, { '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d2` });
        case 'brokenLink': return json(res, 200, { value: [], '@odata.nextLink': 'users/delta?$skiptoken=relative' });
        case 'foreignLink': return json(res, 200, { value: [], '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users/delta?$skiptoken=elsewhere' });
        case 'noLinks': return json(res, 200, { value: [] });
        case 'itemWithoutId': return json(res, 200, { value: [{ displayName: 'who?' }], '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d2` });
      }
    }
    // The initial round.
    return json(res, 200, {
      value: [{ id: 'u1', userPrincipalName: 'u1@x.test', displayName: 'One' }, { id: 'u2', userPrincipalName: 'u2@x.test', displayName: 'Two' }],
      '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=p2`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { baseUrl: base, mode, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('bad Graph responses abort the read, name the URL and keep the stored state', () => {
  let h: Harness;
  let fake: Awaited<ReturnType<typeof startFakeGraph>>;
  beforeAll(async () => {
    fake = await startFakeGraph();
    h = await startHarness({ tenant: { users: 2, groups: 1, membersPerGroup: 1, seed: 41 } }, {}, { policy: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 5 } });
  });
  afterAll(async () => { await h?.close(); await fake?.close(); });
  let shared: ReturnType<Harness['newReader']> | undefined;
  const reader = () => (shared ??= h.newReader({ graphBaseUrl: fake.baseUrl }));

  const cases: [BadMode, string, RegExp][] = [
    ['html200', 'GRAPH_BAD_RESPONSE', /not JSON \(text\/html: <html><body><h1>Proxy Authentication Required/],
    ['html502', 'GRAPH_UNAVAILABLE', /HTTP 502: <html><body>Bad Gateway/],
    ['truncatedJson', 'GRAPH_BAD_RESPONSE', /not JSON/],
    ['noValue', 'GRAPH_BAD_RESPONSE', /no "value" array/],
    ['brokenLink', 'GRAPH_BAD_RESPONSE', /unusable @odata.nextLink/],
    ['foreignLink', 'GRAPH_BAD_RESPONSE', /unusable @odata.nextLink \(https:\/\/graph\.microsoft\.com/],
    ['noLinks', 'GRAPH_BAD_RESPONSE', /neither @odata.nextLink nor @odata.deltaLink/],
    ['itemWithoutId', 'GRAPH_BAD_RESPONSE', /item 0 has no string "id"/],
  ];

  it('a good initial round is stored', async () => {
    await reader().read();
    expect([...h.store.allUsers()].map((u) => u.attributes.displayName)).toEqual(['One', 'Two', 'Three']);
    expect(h.store.deltaLink('users')?.link).toContain('$deltatoken=d1');
  });

  for (const [mode, code, message] of cases) {
    it(`${mode}: ${code}`, async () => {
      fake.mode.bad = mode;
      const seqBefore = h.store.currentSeq();
      const err = await reader().read().then(() => undefined, (e: unknown) => e as { code: string; message: string; where: { url?: string } });
      expect(err?.code).toBe(code);
      expect(err?.message).toMatch(message);
      expect(err?.where.url).toContain('$skiptoken=bad');
      // Nothing from the broken round was applied: u1 keeps its name, the delta link and seq are unchanged.
      expect(h.store.user('u1')?.attributes.displayName).toBe('One');
      expect(h.store.deltaLink('users')?.link).toContain('$deltatoken=d1');
      expect(h.store.currentSeq()).toBe(seqBefore);
    });
  }
});
