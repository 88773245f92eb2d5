// Every command ends with its message and its documented exit code (docs/commands.md, src/cli/exit-codes.ts),
// checked on the built binary run as cron runs it: its own process, its stdout, stderr and exit code, against
// a Graph tenant simulator and a DocuWare-style SCIM simulator over real HTTP.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackTls } from '../../src/simulators/tls.js';
import { startWorld, userNameOf, type World } from '../runtime-world.js';
import { CLI, runCli, type CliResult } from './cli.js';

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;

/** A port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The world's config file with some lines changed and a state file of its own (one writer each); returns its path. */
function variant(world: World, name: string, edit: (yaml: string) => string): string {
  const yaml = edit(fs.readFileSync(world.configFile, 'utf8')).replace(/^(state:\n\s+path:).*$/m, `$1 ${path.join(world.dir, `${name}.db`)}`);
  const file = path.join(world.dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const setLine = (key: string, value: string) => (yaml: string) => yaml.replace(new RegExp(`^(\\s*${key}:).*$`, 'm'), `$1 ${value}`);

/**
 * An HTTPS Graph in front of the simulator whose answers to `/v1.0/users…` (the users delta pages and single
 * users) are cut off in the middle of the JSON. Same loopback CA as the simulator, so the world's caFile
 * trusts it; links in the other answers are rewritten to point back here.
 */
async function malformedGraph(world: World): Promise<{ url: string; close(): Promise<void> }> {
  const tls = loopbackTls();
  const upstream = new URL(world.graph.graphBaseUrl);
  let origin = '';
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    if (req.url?.startsWith('/v1.0/users')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"id":"6b1');
      return;
    }
    const forward = https.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, ca: tls.caPem }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const headers = { ...answer.headers };
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        res.writeHead(answer.statusCode ?? 502, headers);
        res.end(Buffer.concat(chunks).toString('utf8').split(upstream.origin).join(origin));
      });
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url: origin, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** Users assigned to the app directly or through an assigned group (the world has no nested groups). */
function assignedUserIds(world: World): string[] {
  const ids = new Set<string>();
  for (const a of world.graph.tenant.assignments()) {
    if (a.principalType === 'User') ids.add(a.principalId);
    if (a.principalType === 'Group') for (const m of world.graph.tenant.members(a.principalId)) ids.add(m);
  }
  return [...ids].filter((id) => world.graph.tenant.user(id)?.accountEnabled !== false);
}

/** Makes DocuWare hold these users' userNames as its own: hidden from filters, so a create fails with 409 for good. */
function takeUserNames(world: World, userIds: string[]): void {
  for (const id of userIds) world.scim.docuware!.store.putUser({ id: `dw-own-${id}`, userName: userNameOf(world.upn(id)) });
}

function expectCleanFailure(r: CliResult, message: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|EPIPE|\n\s+at .*\.js:\d+/);
}

describe('exit codes of the built CLI', () => {
  let world: World;
  let env: Record<string, string>;
  let upn: string;

  beforeAll(async () => {
    world = await startWorld();
    env = { TEST_ENTRA_SECRET: world.graph.clientSecret };
    upn = world.upn(assignedUserIds(world)[0]!);
  });
  afterAll(async () => { await world?.close(); });

  it('0: a sync that applied everything prints its summary and the target holds the users', async () => {
    const config = variant(world, 'success', (y) => y);
    const first = await runCli(['sync', '-c', config], { env });
    expect(first.stdout).toMatch(/^Read Entra in .* Graph requests/m);
    expect(first.stdout).toMatch(/^docuware: success in .*\n\s+create \d+/m);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(world.scim.docuware!.users().length).toBeGreaterThan(10);
    const again = await runCli(['sync', '--config', config], { env });
    expect(again.stdout).toMatch(/^docuware: success/m);
    expect(again.code).toBe(0);
  });

  describe('Graph failures: sync, resync, plan, provision and preview print the error and exit 1', () => {
    const commands = (user: () => string): string[][] => [['sync'], ['resync'], ['plan'], ['provision', '--user', user()], ['preview', '--user', user()]];
    const cases: { name: string; message: RegExp; setup: (w: World) => Promise<{ config: string; env?: Record<string, string>; done?: () => Promise<void> }> }[] = [
      {
        name: 'a wrong client secret',
        message: /error AUTH_FAILED: .*AADSTS7000215: Invalid client secret/,
        setup: async (w) => ({ config: variant(w, 'wrong-secret', (y) => y), env: { TEST_ENTRA_SECRET: 'not-the-secret-4711' } }),
      },
      {
        name: 'a wrong tenant',
        message: /error AUTH_FAILED: .*AADSTS90002: Tenant '0badc0de-0000-4000-8000-000000000000' not found/,
        setup: async (w) => ({ config: variant(w, 'wrong-tenant', setLine('tenantId', '0badc0de-0000-4000-8000-000000000000')) }),
      },
      {
        name: 'an unreachable Graph (closed port)',
        message: /error AUTH_NETWORK: cannot reach the identity platform: .*ECONNREFUSED/,
        setup: async (w) => {
          const port = await closedPort();
          return { config: variant(w, 'graph-down', (y) => setLine('graphBaseUrl', `https://127.0.0.1:${port}`)(setLine('authorityHost', `https://127.0.0.1:${port}`)(y))) };
        },
      },
      {
        name: 'an untrusted Graph certificate (no caFile)',
        message: /error AUTH_NETWORK: .*(certificate|CERT)/,
        setup: async (w) => ({ config: variant(w, 'no-ca', (y) => y.replace(/^\s*caFile:.*\n/m, '')) }),
      },
      {
        name: 'a missing clientSecretFile',
        message: /error AUTH_CREDENTIAL_FILE: cannot read source\.clientSecretFile.*\n\s+at file=.*missing-secret/,
        setup: async (w) => ({ config: variant(w, 'no-secret-file', (y) => y.replace(/^(\s*)clientSecret:.*$/m, `$1clientSecretFile: ${path.join(w.dir, 'missing-secret')}`)) }),
      },
      {
        name: 'a malformed users page',
        message: /error GRAPH_BAD_RESPONSE: Graph answered HTTP 200 with a body that is not JSON/,
        setup: async (w) => {
          const proxy = await malformedGraph(w);
          return { config: variant(w, 'malformed', setLine('graphBaseUrl', proxy.url)), done: proxy.close };
        },
      },
    ];

    for (const c of cases) {
      it(`with ${c.name}`, async () => {
        const { config, env: extra, done } = await c.setup(world);
        try {
          // Side by side, each on a state file of its own (the state lock lets one process write a state at a time).
          const results = await Promise.all(commands(() => upn).map((args) => {
            const own = variant(world, `${path.basename(config, '.yaml')}-${args[0]!}`, () => fs.readFileSync(config, 'utf8'));
            // Graph requests are retried with backoff (src/source/retry.ts): an unreachable Graph takes minutes to give up.
            return runCli([...args, '-c', own], { env: { ...env, ...extra }, timeoutMs: 270_000 }).then((r) => ({ args, r }));
          }));
          for (const { args, r } of results) {
            const what = `${args[0]}: ${r.stderr}`;
            expect(r.code, what).toBe(1);
            expect(r.stdout, what).toBe('');
            expectCleanFailure(r, c.message);
            if (extra?.TEST_ENTRA_SECRET) expect(r.stderr + r.stdout).not.toContain(extra.TEST_ENTRA_SECRET);
          }
        } finally {
          await done?.();
        }
      }, 300_000);
    }
  });

  describe('targets that could not run exit 1 and say why', () => {
    it('a target that refuses the token (401)', async () => {
      const config = variant(world, 'target-401', setLine('token', 'not-the-token'));
      const r = await runCli(['sync', '-c', config], { env });
      expect(r.stdout).toMatch(/^docuware: did not run: .*HTTP 401.* \(TARGET_UNAUTHORIZED\)$/m);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code).toBe(1);
    });

    it('an unreachable target', async () => {
      const port = await closedPort();
      const config = variant(world, 'target-down', (y) => y.replace(/baseUrl: http:\/\/127\.0\.0\.1:\d+/, `baseUrl: http://127.0.0.1:${port}`));
      const r = await runCli(['sync', '-c', config], { env });
      expect(r.stdout).toMatch(/^docuware: did not run: .*ECONNREFUSED/m);
      expect(r.code).toBe(1);
    }, 120_000);
  });

  describe('objects that failed', () => {
    it('3: some objects failed, the others were applied; the failures are listed', async () => {
      const w = await startWorld();
      try {
        const failing = assignedUserIds(w).slice(0, 2);
        takeUserNames(w, failing);
        const r = await runCli(['sync', '-c', w.configFile], { env: { TEST_ENTRA_SECRET: w.graph.clientSecret } });
        expect(r.stdout).toMatch(/^docuware: partial in /m);
        expect(r.stdout).toMatch(/2 failed \(retried later\)/);
        for (const id of failing) expect(r.stdout).toMatch(new RegExp(`✗ create user .*\\(${id}\\): `));
        expect(w.scim.docuware!.users().filter((u) => !String(u.id).startsWith('dw-own-')).length).toBeGreaterThan(10);
        expect(r.code).toBe(3);
      } finally {
        await w.close();
      }
    });

    it('1: a target quarantined by its failures, and skipped while quarantined; status says so', async () => {
      const w = await startWorld();
      try {
        takeUserNames(w, assignedUserIds(w));
        const secret = { TEST_ENTRA_SECRET: w.graph.clientSecret };
        const first = await runCli(['sync', '-c', w.configFile], { env: secret });
        expect(first.stdout).toMatch(/^docuware: quarantined in /m);
        expect(first.stdout).toMatch(/^\s+quarantined \(.*\): .*; next attempt at /m);
        expect(first.code).toBe(1);
        const second = await runCli(['sync', '-c', w.configFile], { env: secret });
        expect(second.stdout).toMatch(/^docuware: skipped: target is quarantined/m);
        expect(second.code).toBe(1);
        const status = await runCli(['status', '-c', w.configFile], { env: secret });
        expect(status.stdout).toMatch(/QUARANTINED since/);
        expect(status.code).toBe(1);
      } finally {
        await w.close();
      }
    });
  });

  describe('usage errors exit 2 and name the argument', () => {
    const cases: { args: string[]; message: RegExp }[] = [
      { args: ['sync', '--dryrun'], message: /^entra-sync sync: unknown option --dryrun\nRun `entra-sync sync --help` for the options\.\n$/ },
      { args: ['status', 'docuware'], message: /^entra-sync status: unexpected argument "docuware"\n/ },
      { args: ['plan', '--target'], message: /^entra-sync plan: option --target needs a value\n/ },
      { args: ['sync', '--json=yes'], message: /^entra-sync sync: option --json takes no value\n/ },
      { args: ['synk'], message: /^entra-sync: unknown command "synk"\nRun `entra-sync --help` for the commands\.\n$/ },
      { args: ['--verbose'], message: /^entra-sync: unknown option --verbose\n/ },
      { args: ['preview'], message: /^entra-sync preview: preview needs --user <upn\|id>\n/ },
    ];
    for (const c of cases) {
      it(c.args.join(' '), async () => {
        const r = await runCli(c.args, { env });
        expect(r.stderr).toMatch(c.message);
        expect(r.stdout).toBe('');
        expect(r.code).toBe(2);
      });
    }

    it('--help lists the exit codes and exits 0', async () => {
      const r = await runCli(['sync', '--help']);
      expect(r.stdout).toMatch(/^exit codes:\n\s+0 .*\n\s+3 .*\n\s+1 .*\n\s+2 .*\n\s+70 /m);
      expect(r.code).toBe(0);
    });
  });

  it('--version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.stdout).toBe(`${PACKAGE_VERSION}\n`);
      expect(r.code).toBe(0);
    }
  });

  describe('output piped into a reader that stops early ends quietly with the command\'s code', () => {
    /** `entra-sync … | head -1` in a shell: the first line, and the exit code of entra-sync itself. */
    async function pipedIntoHead(args: string[]): Promise<{ line: string; code: number; stderr: string }> {
      const script = `"${process.execPath}" "${CLI}" ${args.map((a) => `'${a}'`).join(' ')} | head -1; exit \${PIPESTATUS[0]}`;
      const child = spawn('bash', ['--norc', '--noprofile', '-c', script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      return { line: stdout, code, stderr };
    }

    /** The reader is gone before the command writes anything: every write meets a closed pipe (EPIPE). */
    async function readerGone(args: string[]): Promise<{ code: number | null; stderr: string }> {
      const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      return { code, stderr };
    }

    let config: string;
    beforeAll(() => { config = variant(world, 'piped', (y) => y); });

    it('sync --json | head -1 and status | head -1', async () => {
      const sync = await pipedIntoHead(['sync', '--json', '-c', config]);
      expect(sync.line).toBe('{\n');
      expect(sync.stderr).toBe('');
      expect(sync.code).toBe(0);
      const status = await pipedIntoHead(['status', '-c', config]);
      expect(status.line).toMatch(/^state .*: source seq \d+/);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
    });

    it('sync --json and status with the reader gone: no EPIPE stack, the command\'s own code', async () => {
      for (const args of [['sync', '--json', '-c', config], ['status', '-c', config]]) {
        const r = await readerGone(args);
        expect(r.stderr, args[0]).toBe('');
        expect(r.code, args[0]).toBe(0);
      }
      // The sync ran to its end although nobody read its output: the next one has nothing to do.
      const after = await runCli(['sync', '-c', config], { env });
      expect(after.stdout).toMatch(/users incremental \(0 objects\)/);
    });
  });

  it('70: an exception nobody awaited is an internal error that asks for a report (stack only with DEBUG)', async () => {
    const hook = path.join(world.dir, 'throw-later.mjs');
    // Thrown once the CLI is listening for it (or after 3 s, so that a CLI that never listens fails rather than hangs).
    fs.writeFileSync(hook, [
      'const started = Date.now();',
      "const poll = setInterval(() => { if (process.listenerCount('uncaughtException') > 0 || Date.now() - started > 3000) { clearInterval(poll); throw new TypeError('simulated bug'); } }, 1);",
    ].join('\n'));
    const args = ['validate', '-c', world.configFile];
    const quiet = await runCli(args, { env: { ...env, NODE_OPTIONS: `--import=${hook}` } });
    expect(quiet.stderr).toMatch(/^internal error: simulated bug\nThis is a bug in entra-sync\. Please report it/m);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    expect(quiet.code).toBe(70);
    const debug = await runCli(args, { env: { ...env, NODE_OPTIONS: `--import=${hook}`, DEBUG: '1' } });
    expect(debug.stderr).toMatch(/internal error: simulated bug\nTypeError: simulated bug\n\s+at /);
    expect(debug.code).toBe(70);
  });
});
