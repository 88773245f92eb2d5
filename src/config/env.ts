// `${NAME}` and `${NAME:-default}` in configuration string values, replaced from the environment after the
// file is parsed (so a value can never change the file's structure). `$${` writes a literal `${`. A key
// whose value interpolates to nothing (`secondaryToken: ${D360_SECONDARY:-}`) counts as not given.
// A missing variable is an error naming the config path and the variable; values are never echoed, since
// they are usually secrets.

export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

export interface InterpolationResult {
  value: unknown;
  problems: InterpolationProblem[];
  /** Paths (joined with '\u0000') whose value came from the environment: never print them. */
  interpolatedPaths: Set<string>;
}

const REFERENCE = /\$(\$)?\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function pathKey(path: readonly (string | number)[]): string {
  return path.join('\u0000');
}

function interpolateString(
  text: string,
  env: Record<string, string | undefined>,
  path: (string | number)[],
  problems: InterpolationProblem[],
): { text: string; replaced: boolean } {
  let replaced = false;
  const out = text.replace(REFERENCE, (whole, escaped: string | undefined, body: string) => {
    if (escaped) return whole.slice(1);
    const sep = body.indexOf(':-');
    const name = (sep === -1 ? body : body.slice(0, sep)).trim();
    if (!NAME.test(name)) {
      problems.push({ path, message: `"\${${body}}" is not a valid environment reference: expected \${NAME} or \${NAME:-default}` });
      return whole;
    }
    replaced = true;
    const value = env[name];
    // As in the shell, `:-` also replaces an empty value.
    if (sep !== -1 && (value === undefined || value === '')) return body.slice(sep + 2);
    if (value === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set (write \${${name}:-default} for a default)` });
      return '';
    }
    return value;
  });
  return { text: out, replaced };
}

/** Replace every environment reference in the string values of a parsed document. Keys are left alone. */
export function interpolateEnv(value: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const problems: InterpolationProblem[] = [];
  const interpolatedPaths = new Set<string>();
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return node;
      const { text, replaced } = interpolateString(node, env, path, problems);
      if (replaced) interpolatedPaths.add(pathKey(path));
      return text;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        const value = walk(v, [...path, k]);
        // `key: ${OPTIONAL:-}` that comes out empty means the key is not given at all.
        if (value === '' && typeof v === 'string' && v !== '') continue;
        out[k] = value;
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, []), problems, interpolatedPaths };
}
