// The one dispatcher (src/net/dispatcher.ts): the configured proxy or HTTPS_PROXY from the environment, NO_PROXY
// in both cases, an extra CA on top of Node's roots, and a clear error naming an unusable CA file.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/net/dispatcher.js';
import { startConnectProxy, startTlsFront, type ConnectProxy, type TlsFront } from './helpers.js';

describe('net: the dispatcher', () => {
  let backend: http.Server;
  let front: TlsFront;
  let proxy: ConnectProxy;
  let caFile: string;
  const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };

  beforeAll(async () => {
    backend = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'); });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    front = await startTlsFront((backend.address() as AddressInfo).port);
    proxy = await startConnectProxy();
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'es-net-')), 'ca.pem');
    fs.writeFileSync(caFile, front.caPem);
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    proxy.tunnels.length = 0;
  });
  afterAll(async () => {
    await front?.close();
    await proxy?.close();
    await new Promise((resolve) => backend?.close(resolve));
  });

  async function get(options: Parameters<typeof createDispatcher>[0]): Promise<string> {
    const dispatcher = createDispatcher(options);
    try {
      const res = await request(`${front.origin}/`, { dispatcher });
      return await res.body.text();
    } finally {
      await dispatcher.close();
    }
  }

  it('goes straight to the origin without a proxy, trusting the extra CA', async () => {
    delete process.env.HTTPS_PROXY;
    expect(await get({ caFile, timeoutMs: 5000 })).toBe('hello');
    expect(proxy.tunnels).toEqual([]);
  });

  it('tunnels through HTTPS_PROXY from the environment', async () => {
    process.env.HTTPS_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    expect(await get({ caFile, timeoutMs: 5000 })).toBe('hello');
    expect(proxy.tunnels).toEqual([front.hostPort]);
  });

  it('skips the proxy for a host NO_PROXY names, with or without its port', async () => {
    process.env.HTTPS_PROXY = proxy.url;
    process.env.NO_PROXY = `example.com,${front.hostPort}`;
    expect(await get({ caFile, timeoutMs: 5000 })).toBe('hello');
    process.env.NO_PROXY = '127.0.0.1';
    expect(await get({ caFile, timeoutMs: 5000 })).toBe('hello');
    expect(proxy.tunnels).toEqual([]);
  });

  it('a configured proxy is used without the environment, and NO_PROXY still applies to it', async () => {
    delete process.env.HTTPS_PROXY;
    delete process.env.NO_PROXY;
    expect(await get({ caFile, timeoutMs: 5000, proxy: proxy.url })).toBe('hello');
    expect(proxy.tunnels).toEqual([front.hostPort]);
    process.env.NO_PROXY = front.hostPort;
    expect(await get({ caFile, timeoutMs: 5000, proxy: proxy.url })).toBe('hello');
    expect(proxy.tunnels).toEqual([front.hostPort]);
  });

  it('refuses an origin whose CA is not trusted', async () => {
    delete process.env.HTTPS_PROXY;
    await expect(get({ timeoutMs: 5000 })).rejects.toThrow();
  });

  it('names the setting of a CA file it cannot use', () => {
    const setting = { code: 'TARGET_CA_FILE', configPath: 'targets.dw.caFile' };
    expect(() => createDispatcher({ caFile: '/nonexistent/ca.pem', timeoutMs: 1000, caFileSetting: setting }))
      .toThrow(expect.objectContaining({ code: 'TARGET_CA_FILE', where: { file: '/nonexistent/ca.pem', configPath: 'targets.dw.caFile' } }));
    const notPem = path.join(path.dirname(caFile), 'not.pem');
    fs.writeFileSync(notPem, 'not a certificate');
    expect(() => createDispatcher({ caFile: notPem, timeoutMs: 1000, caFileSetting: setting })).toThrow(/no PEM certificate/);
  });
});
