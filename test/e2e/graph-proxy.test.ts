import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../source/e2e-helpers.js';
import { startConnectProxy } from '../net/helpers.js';

describe('egress through an HTTP CONNECT proxy', () => {
  let h: Harness;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
  beforeAll(async () => {
    h = await startHarness({ tenant: { users: 6, groups: 2, membersPerGroup: 2, seed: 31 }, pageSize: 50 });
    proxy = await startConnectProxy();
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    proxy.tunnels.length = 0;
  });
  afterAll(async () => { await h?.close(); await proxy?.close(); });

  const simHostPort = () => new URL(h.sim.graphBaseUrl).host;

  it('config `proxy` carries both the token request (MSAL) and the Graph calls', async () => {
    const reader = h.newReader({ proxy: proxy.url });
    await reader.read({ full: true });
    await reader.close();
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([simHostPort()]));
    // The token POST went through the tunnel too: the simulator saw it while only the proxy could connect.
    expect(h.sim.requests.some((r) => r.route === 'token')).toBe(true);
  });

  it('a proxy that refuses the tunnel fails the token request: MSAL really goes through the proxy', async () => {
    proxy.refuse = true;
    const reader = h.newReader({ proxy: proxy.url });
    try {
      await expect(reader.read({ full: true })).rejects.toMatchObject({ code: 'AUTH_NETWORK' });
    } finally {
      proxy.refuse = false;
      await reader.close();
    }
    // A refused tunnel is final (no retries), and it was the token request that asked for it.
    expect(proxy.tunnels).toEqual([simHostPort()]);
  });

  it('HTTPS_PROXY from the environment is honoured, and NO_PROXY bypasses it', async () => {
    process.env.HTTPS_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    const viaEnv = h.newReader({});
    await viaEnv.read({ full: true });
    await viaEnv.close();
    expect(proxy.tunnels).toContain(simHostPort());

    proxy.tunnels.length = 0;
    process.env.NO_PROXY = '127.0.0.1';
    const bypass = h.newReader({});
    await bypass.read({ full: true });
    await bypass.close();
    expect(proxy.tunnels).toEqual([]);
  });

  it('without a proxy nothing goes through it', async () => {
    delete process.env.HTTPS_PROXY;
    await h.reader.read({ full: true });
    expect(proxy.tunnels).toEqual([]);
  });
});
