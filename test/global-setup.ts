// Runs once before the test files. It builds dist/ (tsc, as `npm run build`) for the tests that spawn the CLI.
// The runtime reads Graph on a worker thread, and a worker thread runs
// JavaScript: the tests run from TypeScript sources, with no TypeScript loader for node here. So src/ is
// transpiled (types stripped, nothing checked: `npm test` typechecks first) into WORKER_BUILD, and the
// runtime, running from sources, starts its worker from there (ENTRA_SYNC_WORKER_BUILD, set in
// vitest.config.ts). It sits under node_modules so that the copy resolves the same packages.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const WORKER_BUILD = path.resolve('node_modules/.cache/entra-sync-worker-build');

export default function setup(): void {
  // The process-level tests (test/process/cli.ts) spawn the built binary, as cron or a container runs it.
  // tsc emits even where a type is wrong; `npm test` typechecks on its own, so only the emit matters here.
  spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  if (!fs.existsSync(path.resolve('dist/src/cli/main.js'))) throw new Error('building dist/ for the CLI tests failed: run `npm run build`');
  // Built beside the old copy and swapped in, so a second test run started meanwhile never sees half a tree.
  const fresh = `${WORKER_BUILD}.${process.pid}`;
  fs.rmSync(fresh, { recursive: true, force: true });
  const root = path.resolve('src');
  for (const file of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const out = ts.transpileModule(fs.readFileSync(path.join(root, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const dest = path.join(fresh, 'src', file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, out.outputText);
  }
  fs.writeFileSync(path.join(fresh, 'package.json'), '{"type":"module"}\n');
  const old = `${WORKER_BUILD}.old.${process.pid}`;
  if (fs.existsSync(WORKER_BUILD)) fs.renameSync(WORKER_BUILD, old);
  fs.renameSync(fresh, WORKER_BUILD);
  fs.rmSync(old, { recursive: true, force: true });
}
