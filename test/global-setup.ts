// Runs once before the test files. The runtime reads Graph on a worker thread, and a worker thread runs
// JavaScript: the tests run from TypeScript sources, with no TypeScript loader for node here. So src/ is
// transpiled (types stripped, nothing checked: `npm test` typechecks first) into WORKER_BUILD, and the
// runtime, running from sources, starts its worker from there (ENTRA_SYNC_WORKER_BUILD, set in
// vitest.config.ts). It sits under node_modules so that the copy resolves the same packages.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const WORKER_BUILD = path.resolve('node_modules/.cache/entra-sync-worker-build');

export default function setup(): void {
  fs.rmSync(WORKER_BUILD, { recursive: true, force: true });
  const root = path.resolve('src');
  for (const file of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const out = ts.transpileModule(fs.readFileSync(path.join(root, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const dest = path.join(WORKER_BUILD, 'src', file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, out.outputText);
  }
  fs.writeFileSync(path.join(WORKER_BUILD, 'package.json'), '{"type":"module"}\n');
}
