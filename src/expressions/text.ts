// Text functions whose rules come from .NET or from Microsoft's tables: NormalizeDiacritics, PCase,
// the Base64/hex encodings, and the random generators (Guid, RandomString) with an injectable source.
import { randomInt, randomUUID } from 'node:crypto';

/** Letters that are not a base letter plus combining marks, so NFD alone cannot reduce them. */
const STANDALONE_LETTERS: Readonly<Record<string, string>> = {
  'æ': 'ae', 'Æ': 'AE', 'ø': 'oe', 'Ø': 'OE', 'œ': 'oe', 'Œ': 'OE', 'ß': 'ss', 'ł': 'l', 'Ł': 'L', 'ı': 'i',
};
const STANDALONE_RE = /[æÆøØœŒßłŁı]/g;
// Plain ASCII has nothing to normalise; skip the work for the common case.
const NEEDS_WORK_RE = /[^\t\n\r\x20-\x7e]/;

/**
 * Microsoft's documented table: accented letters to their base letter, with the multi-letter outputs
 * æ→ae, ø→oe, œ̄→oe, ß→ss (ö stays o, as the table says). Decompose, map the standalone letters, drop
 * the combining marks, recompose whatever is left.
 */
export function normalizeDiacritics(s: string): string {
  if (!NEEDS_WORK_RE.test(s)) return s;
  return s
    .normalize('NFD')
    .replace(STANDALONE_RE, (ch) => STANDALONE_LETTERS[ch] ?? ch)
    .split('')
    .filter((ch) => !isLatinCombiningMark(ch.charCodeAt(0)))
    .join('')
    .normalize('NFC');
}

/**
 * Combining diacritical marks (U+0300-036F, plus the extended, supplement and half-mark blocks). Other
 * scripts' nonspacing marks (Devanagari vowel signs …) are letters' parts, not accents, and stay.
 */
function isLatinCombiningMark(c: number): boolean {
  return (c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0xfe20 && c <= 0xfe2f);
}

// .NET TextInfo.ToTitleCase word separators: white space, control, format, and punctuation/symbol categories.
const TITLE_SEPARATOR_RE = /[\s\p{Cc}\p{Cf}\p{Pc}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Po}\p{Sm}\p{Sc}\p{Sk}\p{So}]/u;

/**
 * PCase: first letter of each word upper case, the rest lower case. Without separators the word
 * boundaries are .NET ToTitleCase's; Microsoft's example (`PABLO GONSALVES (SECOND)` → `Pablo Gonsalves
 * (Second)`) shows all-capital words are lowered too, unlike plain ToTitleCase.
 */
export function properCase(s: string, separators: string | null): string {
  const isSeparator = separators === null
    ? (ch: string) => TITLE_SEPARATOR_RE.test(ch)
    : (ch: string) => separators.includes(ch);
  let out = '';
  let atWordStart = true;
  for (const ch of s) {
    if (isSeparator(ch)) { out += ch; atWordStart = true; continue; }
    out += atWordStart ? ch.toUpperCase() : ch.toLowerCase();
    atWordStart = false;
  }
  return out;
}

/** .NET Convert.ToBase64String(Encoding.Unicode.GetBytes(s)): Base64 of UTF-16LE. */
export function toBase64Utf16(s: string): string {
  return Buffer.from(s, 'utf16le').toString('base64');
}

export type TextEncoding = 'utf16le' | 'utf8' | 'ascii';

export function fromBase64(s: string, encoding: TextEncoding): string | undefined {
  const clean = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return undefined;
  return Buffer.from(clean, 'base64').toString(encoding === 'ascii' ? 'latin1' : encoding);
}

/** Upper-case hex of the UTF-8 bytes. */
export function toUtf8Hex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex').toUpperCase();
}

export type RandomSource = () => number;

function pick(random: RandomSource | undefined, n: number): number {
  if (!random) return randomInt(n);
  return Math.min(n - 1, Math.floor(random() * n));
}

export function guid(random?: RandomSource): string {
  if (!random) return randomUUID();
  const hex = '0123456789abcdef';
  let out = '';
  for (let i = 0; i < 32; i++) {
    let nibble = pick(random, 16);
    if (i === 12) nibble = 4; // version 4
    if (i === 16) nibble = 8 | (nibble & 3); // RFC 4122 variant
    out += hex[nibble];
    if (i === 7 || i === 11 || i === 15 || i === 19) out += '-';
  }
  return out;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** Non-alphanumeric characters of the Windows password-complexity definition. */
const SPECIAL = '~!@#$%^&*_-+=`|\\(){}[]:;"\'<>,.?/';

export interface RandomStringRule {
  length: number;
  minNumbers: number;
  minSpecial: number;
  minCapital: number;
  minLower: number;
  avoid: string;
}

/** A string with at least the asked-for counts of each class, shuffled; returns a problem text when impossible. */
export function randomString(rule: RandomStringRule, random?: RandomSource): string | { problem: string } {
  const keep = (set: string) => [...set].filter((ch) => !rule.avoid.includes(ch)).join('');
  const classes: [string, number, string][] = [
    [keep(DIGITS), rule.minNumbers, 'numbers'],
    [keep(SPECIAL), rule.minSpecial, 'special characters'],
    [keep(UPPER), rule.minCapital, 'capital letters'],
    [keep(LOWER), rule.minLower, 'lower-case letters'],
  ];
  const chars: string[] = [];
  for (const [set, min, label] of classes) {
    if (min > 0 && set.length === 0) return { problem: `every one of the ${label} is excluded by CharactersToAvoid` };
    for (let i = 0; i < min; i++) chars.push(set[pick(random, set.length)]!);
  }
  const all = classes.map(([set]) => set).join('');
  if (all.length === 0) return { problem: 'CharactersToAvoid excludes every character' };
  while (chars.length < rule.length) chars.push(all[pick(random, all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = pick(random, i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
