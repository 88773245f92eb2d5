// serve.ts / spawnScimSimulator: the simulator in its own process, as benchmarks start it. The module
// files are transpiled to a temp dir first (tests run from source; there is no TS loader for node here).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnScimSimulator } from '../../../src/simulators/scim/child.js';
import { call, userBody } from './helpers.js';

describe('SCIM simulator: child process runner', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-sim-'));
    const src = new URL('../../../src/simulators/scim/', import.meta.url);
    for (const file of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
      const out = ts.transpileModule(readFileSync(new URL(file, src), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
      writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), out.outputText);
    }
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with JSON options, prints its URLs, serves requests and stops on SIGTERM', async () => {
    const child = await spawnScimSimulator({ profile: 'document360', tokens: ['child-token'] }, join(dir, 'serve.js'));
    try {
      expect(child.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
      expect(child.tokenUrl).toMatch(/\/oauth2\/token$/);
      const created = await call(child.baseUrl, 'POST', '/Users', { body: userBody('from-child'), token: 'child-token' });
      expect(created.status).toBe(201);
      // document360 profile applied in the child: DELETE deactivates.
      await call(child.baseUrl, 'DELETE', `/Users/${created.body.id}`, { token: 'child-token' });
      expect((await call(child.baseUrl, 'GET', `/Users/${created.body.id}`, { token: 'child-token' })).body.active).toBe(false);
    } finally {
      await child.stop();
    }
    await expect(fetch(`${child.baseUrl}/Users`)).rejects.toThrow();
  });

  it('reports bad options instead of hanging', async () => {
    await expect(spawnScimSimulator({ port: -5 } as never, join(dir, 'serve.js'))).rejects.toThrow(/exited|port/i);
  });
});
