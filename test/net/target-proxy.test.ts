// Targets take the same way out as Graph (src/net/dispatcher.ts): the built binary, as cron runs it, with
// HTTPS_PROXY in its environment sends its SCIM requests through that HTTP CONNECT proxy, and NO_PROXY takes
// a target host out of it. The target is https (a TLS front before the SCIM simulator): HTTPS_PROXY is the
// proxy for https:// origins.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../process/cli.js';
import { startWorld, type World } from '../runtime-world.js';
import { startConnectProxy, startTlsFront, type ConnectProxy, type TlsFront } from './helpers.js';

describe('targets through an HTTP CONNECT proxy from the environment (the built CLI)', () => {
  let world: World;
  let front: TlsFront;
  let proxy: ConnectProxy;
  let config: string;
  const graphHostPort = () => new URL(world.graph.graphBaseUrl).host;

  beforeAll(async () => {
    world = await startWorld();
    const scim = world.scim.docuware!;
    front = await startTlsFront(Number(new URL(scim.baseUrl).port));
    proxy = await startConnectProxy();
    const caFile = path.join(world.dir, 'target-ca.pem');
    fs.writeFileSync(caFile, front.caPem);
    // The world's configuration, with the target behind the TLS front.
    const yaml = fs.readFileSync(world.configFile, 'utf8')
      .replace(`baseUrl: ${scim.baseUrl}`, `baseUrl: ${front.origin}${new URL(scim.baseUrl).pathname}\n    caFile: ${caFile}`);
    config = path.join(world.dir, 'behind-front.yaml');
    fs.writeFileSync(config, yaml);
  });
  afterAll(async () => {
    await front?.close();
    await proxy?.close();
    await world?.close();
  });

  const env = (extra: Record<string, string>) => ({ TEST_ENTRA_SECRET: world.graph.clientSecret, ...extra });

  it('sync sends the target requests through HTTPS_PROXY, and every user arrives', async () => {
    const result = await runCli(['sync', '-c', config], { env: env({ HTTPS_PROXY: proxy.url }) });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(proxy.tunnels).toContain(front.hostPort);
    expect(proxy.tunnels).toContain(graphHostPort());
    expect(world.scim.docuware!.users().length).toBeGreaterThan(0);
  });

  it('NO_PROXY naming the target host leaves only Graph on the proxy', async () => {
    proxy.tunnels.length = 0;
    const result = await runCli(['test-connection', '-c', config], { env: env({ HTTPS_PROXY: proxy.url, NO_PROXY: front.hostPort }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/docuware/);
    expect(proxy.tunnels).not.toContain(front.hostPort);
    expect(proxy.tunnels).toContain(graphHostPort());
  });

  it('without NO_PROXY the same check goes through the proxy (the test above could fail)', async () => {
    proxy.tunnels.length = 0;
    const result = await runCli(['test-connection', '-c', config], { env: env({ HTTPS_PROXY: proxy.url }) });
    expect(result.code).toBe(0);
    expect(proxy.tunnels).toContain(front.hostPort);
  });
});
