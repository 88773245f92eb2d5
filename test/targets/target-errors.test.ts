// What a target's answer means for the engine: TargetError kinds from status and SCIM error bodies,
// the Retry-After gate that holds the whole target, and dry-run refusal before anything is sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/net/retry.js';
import { TargetHttp } from '../../src/targets/http.js';
import { scimTargetOptionsSchema } from '../../src/targets/scim/options.js';

interface ErrorCase { status: number; body: unknown; kind: string; scimType?: string; message?: string }
const cases = JSON.parse(readFileSync(new URL('../fixtures/targets/error-classification.json', import.meta.url), 'utf8')) as ErrorCase[];

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
}

function http(baseUrl: string, extra: Record<string, unknown> = {}, deps: Partial<ConstructorParameters<typeof TargetHttp>[1]> = {}) {
  return new TargetHttp(scimTargetOptionsSchema.parse({ baseUrl, retry: { maxAttempts: 1 }, ...extra }), { target: 't', ...deps });
}

describe('response classification', () => {
  it.each(cases)('HTTP $status → $kind', async ({ status, body, kind, scimType, message }) => {
    const base = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/scim+json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    const h = http(base);
    const err = await h.send({ method: 'PATCH', path: '/Users/1', query: { secret: 'x' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TargetError', kind, status, request: 'PATCH /scim/v2/Users/1' });
    if (scimType) expect(err).toMatchObject({ scimType });
    if (message) expect((err as Error).message).toContain(message);
    await h.close();
  });

  it('accepts 200 and 204 alike', async () => {
    const base = await serve((req, res) => {
      res.writeHead(req.url!.endsWith('/a') ? 200 : 204);
      res.end(req.url!.endsWith('/a') ? '{"id":"a"}' : undefined);
    });
    const h = http(base);
    expect((await h.send({ method: 'PATCH', path: '/Users/a' })).status).toBe(200);
    expect((await h.send({ method: 'PATCH', path: '/Users/b' })).status).toBe(204);
    await h.close();
  });
});

describe('pacing', () => {
  it('holds every request of the target while a Retry-After runs', async () => {
    const statuses: number[] = [];
    const base = await serve((_req, res) => {
      const status = statuses.length === 0 ? 429 : 200;
      statuses.push(status);
      res.writeHead(status, status === 429 ? { 'retry-after': '3' } : { 'content-type': 'application/json' });
      res.end(status === 429 ? '' : '{}');
    });
    let now = 1_000_000;
    const waits: number[] = [];
    let other: Promise<unknown> | undefined;
    let launched = false;
    const h = http(base, { retry: { maxAttempts: 3 } }, {
      now: () => now,
      sleep: (ms) => {
        waits.push(ms);
        // While the throttled request waits, another request of the same target comes in.
        if (!launched) {
          launched = true;
          other = h.send({ method: 'GET', path: '/Users/2' });
        }
        now += ms;
        return Promise.resolve();
      },
    });
    await h.send({ method: 'GET', path: '/Users/1' });
    await other;
    // Both waited the full 3 s: the newcomer never went out into the throttle.
    expect(waits.filter((ms) => ms >= 3000)).toHaveLength(2);
    expect(statuses).toEqual([429, 200, 200]);
    expect(h.stats).toMatchObject({ requests: 3, throttled: 1, retries: 1 });
    await h.close();
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('dry run', () => {
  it('refuses mutating requests before they leave the process, and lets reads through', async () => {
    let received = 0;
    const base = await serve((_req, res) => {
      received++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const h = http(base, {}, { dryRun: true });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      await expect(h.send({ method, path: '/Users/1', body: {} })).rejects.toMatchObject({ kind: 'dryRun' });
    }
    await h.send({ method: 'GET', path: '/Users' });
    expect(received).toBe(1);
    expect(h.stats.dryRunRefused).toBe(4);
    await h.close();
  });
});
