// .NET regular expressions on JavaScript's engine, for Replace. Named groups `(?<name>…)`, lookarounds,
// lazy quantifiers and `${name}` substitutions carry over; a leading `(?i)`/`(?m)`/`(?s)` becomes a flag;
// `\A`, `\Z`, `\z` and `(?'name'…)` are rewritten. Constructs JavaScript cannot express (atomic groups,
// possessive quantifiers, character-class subtraction, inline options elsewhere, conditionals) are
// reported instead of silently matching something else.

export class RegexProblem {
  constructor(readonly message: string) {}
}

export interface DotNetRegex {
  /** Global, with group indices (`d`) so a single named group's span can be replaced. */
  readonly regex: RegExp;
  readonly source: string;
}

const cache = new Map<string, DotNetRegex | RegexProblem>();

export function compileDotNetRegex(pattern: string): DotNetRegex | RegexProblem {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const result = translate(pattern);
  if (cache.size < 1024) cache.set(pattern, result);
  return result;
}

function translate(pattern: string): DotNetRegex | RegexProblem {
  let flags = 'gd';
  let p = pattern;
  const lead = /^\(\?([imsx]+)\)/.exec(p);
  if (lead) {
    if (lead[1]!.includes('x')) return new RegexProblem('the inline option x (ignore pattern white space) is not supported');
    for (const f of lead[1]!) if (!flags.includes(f)) flags += f;
    p = p.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '\\') {
      const next = p[i + 1];
      if (next === undefined) return new RegexProblem('the pattern ends with a lone backslash');
      if (!inClass && next === 'A') { out += '^'; i++; continue; }
      if (!inClass && next === 'Z') { out += '(?=\\n?$)'; i++; continue; }
      if (!inClass && next === 'z') { out += '$'; i++; continue; }
      if (next === 'G') return new RegexProblem('\\G (contiguous match) is not supported');
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      else if (ch === '-' && p[i + 1] === '[') return new RegexProblem('character-class subtraction [a-z-[aeiou]] is not supported');
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (p[i + 1] === '^') { out += '^'; i++; }
      if (p[i + 1] === ']') { out += '\\]'; i++; } // .NET (like PCRE) reads a leading ] as a literal
      continue;
    }
    if (ch === '(' && p[i + 1] === '?') {
      const rest = p.slice(i + 2);
      if (rest.startsWith('>')) return new RegexProblem('atomic groups (?>…) are not supported');
      if (rest.startsWith('(')) return new RegexProblem('conditional groups (?(…)…) are not supported');
      if (rest.startsWith('#')) return new RegexProblem('inline comments (?#…) are not supported');
      const quoted = /^'([A-Za-z_]\w*)'/.exec(rest);
      if (quoted) { out += `(?<${quoted[1]}>`; i += 1 + quoted[0].length; continue; }
      if (/^[imnsx-]+[:)]/.test(rest)) return new RegexProblem('inline options (?i) are supported only at the start of the pattern');
      const balancing = /^<[A-Za-z_]\w*-/.exec(rest);
      if (balancing) return new RegexProblem('balancing groups are not supported');
    }
    if ((ch === '+' || ch === '*' || ch === '?' || ch === '}') && p[i + 1] === '+') {
      return new RegexProblem('possessive quantifiers are not supported');
    }
    out += ch;
  }
  try {
    return { regex: new RegExp(out, flags), source: pattern };
  } catch (err) {
    return new RegexProblem(err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err));
  }
}

type ReplacementPart = string | { group: number | string } | { special: '&' | '`' | "'" | '+' | '_' };
const replacementCache = new Map<string, ReplacementPart[]>();

/** Parses a .NET substitution string: `$1`, `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+`, `$_`. */
function parseReplacement(text: string): ReplacementPart[] {
  const hit = replacementCache.get(text);
  if (hit) return hit;
  const parts: ReplacementPart[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '$' || i + 1 >= text.length) { lit += ch; continue; }
    const next = text[i + 1]!;
    if (next === '$') { lit += '$'; i++; continue; }
    if (next === '{') {
      const close = text.indexOf('}', i + 2);
      const name = close === -1 ? '' : text.slice(i + 2, close);
      if (/^\d+$/.test(name) || /^[A-Za-z_]\w*$/.test(name)) {
        if (lit) { parts.push(lit); lit = ''; }
        parts.push({ group: /^\d+$/.test(name) ? Number(name) : name });
        i = close;
        continue;
      }
      lit += ch;
      continue;
    }
    if (/\d/.test(next)) {
      let j = i + 1;
      while (j < text.length && /\d/.test(text[j]!)) j++;
      if (lit) { parts.push(lit); lit = ''; }
      parts.push({ group: Number(text.slice(i + 1, j)) });
      i = j - 1;
      continue;
    }
    if (next === '&' || next === '`' || next === "'" || next === '+' || next === '_') {
      if (lit) { parts.push(lit); lit = ''; }
      parts.push({ special: next });
      i++;
      continue;
    }
    lit += ch;
  }
  if (lit) parts.push(lit);
  if (replacementCache.size < 1024) replacementCache.set(text, parts);
  return parts;
}

function groupText(m: RegExpExecArray, group: number | string): string | undefined {
  if (typeof group === 'number') return group < m.length ? (m[group] ?? '') : undefined;
  if (m.groups && group in m.groups) return m.groups[group] ?? '';
  return undefined;
}

function substitute(parts: ReplacementPart[], m: RegExpExecArray, input: string): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') { out += part; continue; }
    if ('group' in part) {
      const text = groupText(m, part.group);
      // .NET keeps a reference to a group that does not exist as literal text.
      out += text ?? (typeof part.group === 'number' ? `$${part.group}` : `\${${part.group}}`);
      continue;
    }
    switch (part.special) {
      case '&': out += m[0]; break;
      case '`': out += input.slice(0, m.index); break;
      case "'": out += input.slice(m.index + m[0].length); break;
      case '+': out += m.length > 1 ? (m[m.length - 1] ?? '') : m[0]; break;
      case '_': out += input; break;
    }
  }
  return out;
}

/** Iterates matches like .NET: every match left to right, empty matches included, never looping. */
function* matches(re: RegExp, input: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  while (re.lastIndex <= input.length) {
    const m = re.exec(input);
    if (!m) return;
    yield m;
    if (m[0].length === 0) re.lastIndex = m.index + 1;
  }
}

/** Regex.Replace(input, pattern, replacement): every match replaced, substitutions expanded. */
export function regexReplaceAll(r: DotNetRegex, input: string, replacement: string): string {
  const parts = parseReplacement(replacement);
  let out = '';
  let last = 0;
  for (const m of matches(r.regex, input)) {
    out += input.slice(last, m.index) + substitute(parts, m, input);
    last = m.index + m[0].length;
  }
  return last === 0 && out === '' ? input : out + input.slice(last);
}

/** In every match, replace only the text captured by `group` with `replacement` (taken literally). */
export function regexReplaceGroup(r: DotNetRegex, input: string, group: string, replacement: string): string | RegexProblem {
  if (!hasGroup(r, group)) return new RegexProblem(`the pattern has no group named "${group}"`);
  let out = '';
  let last = 0;
  for (const m of matches(r.regex, input)) {
    const span = namedSpan(m, group);
    if (!span) continue;
    out += input.slice(last, span[0]) + replacement;
    last = span[1];
  }
  return out + input.slice(last);
}

/** The text of `group` in the first match, or null when nothing matches. */
export function regexExtractGroup(r: DotNetRegex, input: string, group: string): string | null | RegexProblem {
  if (!hasGroup(r, group)) return new RegexProblem(`the pattern has no group named "${group}"`);
  for (const m of matches(r.regex, input)) {
    const text = groupText(m, /^\d+$/.test(group) ? Number(group) : group);
    if (text !== undefined && namedSpan(m, group)) return text;
  }
  return null;
}

function hasGroup(r: DotNetRegex, group: string): boolean {
  if (/^\d+$/.test(group)) return Number(group) <= countGroups(r.regex);
  return new RegExp(`\\(\\?<${group.replace(/[^\w]/g, '')}>`).test(r.regex.source);
}

function countGroups(re: RegExp): number {
  return (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
}

function namedSpan(m: RegExpExecArray, group: string): [number, number] | undefined {
  const indices = m.indices;
  if (!indices) return undefined;
  const span = /^\d+$/.test(group) ? indices[Number(group)] : indices.groups?.[group];
  return span ?? undefined;
}
