// The package's version, for `entra-sync --version` and the daemon's start line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntraSyncError } from '../errors.js';

/** The version in the package.json above this file: dist/src/cli/ when built or installed, src/cli/ in a checkout. */
export function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'entra-sync' && pkg.version) return pkg.version;
    } catch {
      // no package.json here (or not ours): look further up
    }
    if (path.dirname(dir) === dir) throw new EntraSyncError('VERSION_UNKNOWN', 'the package.json of entra-sync was not found above the program file', { file: fileURLToPath(import.meta.url) });
  }
}
