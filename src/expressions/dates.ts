// Date and time the way Entra's .NET engine handles them: DateTime.Parse-like reading for CDate,
// ParseExact/ToString with .NET custom format strings for FormatDateTime, VB DateAdd/DateDiff
// semantics, and AD FILETIME (100-ns ticks since 1601-01-01 UTC) for NumFromDate/DateFromNum.
// Everything is UTC: an input with an offset is converted, as on Entra's UTC servers.
import { DateTimeValue, pad2 } from './values.js';

const MS_PER_DAY = 86_400_000;
/** FILETIME ticks at 1970-01-01T00:00:00Z. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
/** .NET DateTime range, in ms since 1970: 0001-01-01 .. 9999-12-31T23:59:59.999. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export class DateProblem {
  constructor(readonly message: string) {}
}

/** UTC milliseconds for calendar fields, valid for years 1..9999 (Date.UTC maps 0..99 to 19xx). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month + 1, 0)).getUTCDate();
}

function build(fields: { year: number; month: number; day: number; hour: number; minute: number; second: number; fraction: number; offsetMin: number }): DateTimeValue | DateProblem {
  const { year, month, day, hour, minute, second } = fields;
  if (year < 1 || year > 9999) return new DateProblem(`year ${year} is out of range`);
  if (month < 1 || month > 12) return new DateProblem(`month ${month} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) return new DateProblem(`day ${day} does not exist in ${MONTHS[month - 1]} ${year}`);
  if (hour > 23 || minute > 59 || second > 59) return new DateProblem(`time ${hour}:${pad2(minute)}:${pad2(second)} is out of range`);
  const ticks = Math.round(fields.fraction * 1e7); // 100-ns ticks within the second
  const ms = Math.floor(ticks / 10_000);
  const epochMs = utcMs(year, month, day, hour, minute, second, ms) - fields.offsetMin * 60_000;
  if (epochMs < MIN_MS || epochMs > MAX_MS) return new DateProblem('the date is outside the range .NET can represent');
  return new DateTimeValue(epochMs, ticks % 10_000);
}

function parseOffset(text: string | undefined): number {
  if (!text || text === 'Z' || text === 'z') return 0;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(text);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

const ISO_FORM = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?$/i;
const US_FORM = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*([AaPp][Mm])?)?\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?$/;

/**
 * CDate and every function taking a DateTime: ISO 8601 with or without time and offset (including
 * Workday's `2020-03-16-07:00`), and the `M/d/yyyy h:mm:ss tt` text Entra itself produces.
 * Without an offset the time is taken as UTC.
 */
export function parseDateTime(text: string): DateTimeValue | DateProblem {
  const t = text.trim();
  let m = ISO_FORM.exec(t);
  if (m) {
    return build({
      year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
      hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
      fraction: m[7] ? Number(`0.${m[7]}`) : 0, offsetMin: parseOffset(m[8]),
    });
  }
  m = US_FORM.exec(t);
  if (m) {
    let hour = Number(m[4] ?? 0);
    const ampm = m[8]?.toUpperCase();
    if (ampm) {
      if (hour < 1 || hour > 12) return new DateProblem(`hour ${hour} is out of range for ${ampm}`);
      hour = (hour % 12) + (ampm === 'PM' ? 12 : 0);
    }
    return build({
      year: Number(m[3]), month: Number(m[1]), day: Number(m[2]),
      hour, minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
      fraction: m[7] ? Number(`0.${m[7]}`) : 0, offsetMin: parseOffset(m[9]),
    });
  }
  return new DateProblem(`"${text}" is not a date this engine can read (use ISO 8601 such as 2024-05-01T08:00:00Z, or M/d/yyyy h:mm:ss tt)`);
}

// ---- .NET custom date and time format strings -------------------------------------------------

type FormatToken = { kind: 'field'; letter: string; count: number } | { kind: 'literal'; text: string };

const FIELD_LETTERS = new Set(['d', 'f', 'F', 'g', 'h', 'H', 'K', 'm', 'M', 's', 't', 'y', 'z']);
const tokenCache = new Map<string, FormatToken[]>();

/** Splits a .NET custom format into fields and literals (quoted text, `\x` escapes, `%x`). */
export function tokenizeFormat(format: string): FormatToken[] {
  const cached = tokenCache.get(format);
  if (cached) return cached;
  const tokens: FormatToken[] = [];
  const literal = (text: string): void => {
    const last = tokens[tokens.length - 1];
    if (last?.kind === 'literal') tokens[tokens.length - 1] = { kind: 'literal', text: last.text + text };
    else tokens.push({ kind: 'literal', text });
  };
  for (let i = 0; i < format.length;) {
    const ch = format[i]!;
    if (ch === '%' && i + 1 < format.length && FIELD_LETTERS.has(format[i + 1]!)) { i++; continue; }
    if (ch === '\\' && i + 1 < format.length) { literal(format[i + 1]!); i += 2; continue; }
    if (ch === '"' || ch === "'") {
      const close = format.indexOf(ch, i + 1);
      const end = close === -1 ? format.length : close;
      literal(format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (FIELD_LETTERS.has(ch)) {
      let j = i;
      while (format[j] === ch) j++;
      tokens.push({ kind: 'field', letter: ch, count: j - i });
      i = j;
      continue;
    }
    literal(ch);
    i++;
  }
  if (tokenCache.size < 256) tokenCache.set(format, tokens);
  return tokens;
}

/** DateTime.ToString(format, InvariantCulture) for a UTC value. */
export function formatDateTime(value: DateTimeValue, format: string): string {
  const d = new Date(value.epochMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const hour = d.getUTCHours();
  const fraction7 = String(d.getUTCMilliseconds() * 10_000 + value.subMsTicks).padStart(7, '0');
  let out = '';
  for (const token of tokenizeFormat(format)) {
    if (token.kind === 'literal') { out += token.text; continue; }
    const n = token.count;
    switch (token.letter) {
      case 'd':
        out += n === 1 ? String(d.getUTCDate()) : n === 2 ? pad2(d.getUTCDate()) : n === 3 ? DAYS[d.getUTCDay()]!.slice(0, 3) : DAYS[d.getUTCDay()]!;
        break;
      case 'f':
        out += fraction7.slice(0, Math.min(n, 7));
        break;
      case 'F': {
        const digits = fraction7.slice(0, Math.min(n, 7)).replace(/0+$/, '');
        // .NET drops the decimal point before an F field that prints nothing.
        if (digits === '' && out.endsWith('.')) out = out.slice(0, -1);
        out += digits;
        break;
      }
      case 'g': out += 'A.D.'; break;
      case 'h': out += n === 1 ? String(hour % 12 || 12) : pad2(hour % 12 || 12); break;
      case 'H': out += n === 1 ? String(hour) : pad2(hour); break;
      case 'K': out += 'Z'; break;
      case 'm': out += n === 1 ? String(d.getUTCMinutes()) : pad2(d.getUTCMinutes()); break;
      case 'M': out += n === 1 ? String(month) : n === 2 ? pad2(month) : n === 3 ? MONTHS[month - 1]!.slice(0, 3) : MONTHS[month - 1]!; break;
      case 's': out += n === 1 ? String(d.getUTCSeconds()) : pad2(d.getUTCSeconds()); break;
      case 't': out += n === 1 ? (hour < 12 ? 'A' : 'P') : hour < 12 ? 'AM' : 'PM'; break;
      case 'y':
        out += n === 1 ? String(year % 100) : n === 2 ? pad2(year % 100) : String(year).padStart(n, '0');
        break;
      case 'z': out += n === 1 ? '+0' : n === 2 ? '+00' : '+00:00'; break;
    }
  }
  return out;
}

/** DateTime.ParseExact(text, format, InvariantCulture) with leading/trailing white space allowed. */
export function parseExactDateTime(text: string, format: string, now: DateTimeValue): DateTimeValue | DateProblem {
  const src = text.trim();
  let pos = 0;
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fraction = 0;
  let pm: boolean | undefined;
  let offsetMin = 0;
  const fail = (what: string): DateProblem =>
    new DateProblem(`"${text}" does not match the format "${format}" (${what} at position ${pos + 1})`);
  const digits = (min: number, max: number): number | undefined => {
    let j = pos;
    while (j < src.length && j - pos < max && src.charCodeAt(j) >= 48 && src.charCodeAt(j) <= 57) j++;
    if (j - pos < min) return undefined;
    const v = Number(src.slice(pos, j));
    pos = j;
    return v;
  };
  const name = (names: readonly string[], len?: number): number | undefined => {
    for (let i = 0; i < names.length; i++) {
      const candidate = len ? names[i]!.slice(0, len) : names[i]!;
      if (src.slice(pos, pos + candidate.length).toLowerCase() === candidate.toLowerCase()) {
        pos += candidate.length;
        return i;
      }
    }
    return undefined;
  };
  for (const token of tokenizeFormat(format)) {
    if (token.kind === 'literal') {
      for (const ch of token.text) {
        if (src[pos] !== ch) return fail(`expected "${ch}"`);
        pos++;
      }
      continue;
    }
    const n = token.count;
    let v: number | undefined;
    switch (token.letter) {
      case 'd':
        if (n <= 2) { v = digits(n, 2); if (v === undefined) return fail('expected the day'); day = v; }
        else if (name(DAYS, n === 3 ? 3 : undefined) === undefined) return fail('expected a day name');
        break;
      case 'f': case 'F': {
        const start = pos;
        v = digits(token.letter === 'f' ? n : 0, n);
        if (v === undefined) return fail('expected fractional seconds');
        if (pos > start) fraction = Number(`0.${src.slice(start, pos)}`);
        break;
      }
      case 'h': case 'H':
        v = digits(n === 1 ? 1 : 2, 2); if (v === undefined) return fail('expected the hour'); hour = v;
        if (token.letter === 'h' && (v < 1 || v > 12)) return fail('hour out of range');
        break;
      case 'm': v = digits(n === 1 ? 1 : 2, 2); if (v === undefined) return fail('expected the minute'); minute = v; break;
      case 's': v = digits(n === 1 ? 1 : 2, 2); if (v === undefined) return fail('expected the second'); second = v; break;
      case 'M':
        if (n <= 2) { v = digits(n, 2); if (v === undefined) return fail('expected the month'); month = v; }
        else { v = name(MONTHS, n === 3 ? 3 : undefined); if (v === undefined) return fail('expected a month name'); month = v + 1; }
        break;
      case 'y':
        if (n <= 2) {
          v = digits(n, 2); if (v === undefined) return fail('expected the year');
          year = v < 50 ? 2000 + v : 1900 + v; // .NET's TwoDigitYearMax of 2049
        } else {
          v = digits(n, Math.max(n, 4)); if (v === undefined) return fail('expected the year'); year = v;
        }
        break;
      case 't': {
        const a = src[pos]?.toUpperCase();
        if (a !== 'A' && a !== 'P') return fail('expected AM or PM');
        pos++;
        if (n >= 2) { if (src[pos]?.toUpperCase() !== 'M') return fail('expected AM or PM'); pos++; }
        pm = a === 'P';
        break;
      }
      case 'z': case 'K': {
        const m = /^(Z|[+-]\d{1,2}(?::?\d{2})?)/i.exec(src.slice(pos));
        if (!m) { if (token.letter === 'K') break; return fail('expected a time zone offset'); }
        offsetMin = parseOffset(m[1]!.toUpperCase());
        pos += m[1]!.length;
        break;
      }
      case 'g': if (name(['A.D.', 'AD']) === undefined) return fail('expected the era'); break;
    }
  }
  if (pos !== src.length) return fail('unexpected text');
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  // A format without a date part reads today's date, as .NET does.
  const today = new Date(now.epochMs);
  return build({
    year: year ?? today.getUTCFullYear(), month: month ?? today.getUTCMonth() + 1, day: day ?? today.getUTCDate(),
    hour, minute, second, fraction, offsetMin,
  });
}

// ---- VB DateAdd / DateDiff ---------------------------------------------------------------------

export type DateInterval = 'yyyy' | 'q' | 'm' | 'y' | 'd' | 'w' | 'ww' | 'h' | 'n' | 's';
const INTERVALS = new Set<string>(['yyyy', 'q', 'm', 'y', 'd', 'w', 'ww', 'h', 'n', 's']);

/** VB accepts interval names in any case. */
export function toInterval(text: string): DateInterval | undefined {
  const lower = text.trim().toLowerCase();
  return INTERVALS.has(lower) ? (lower as DateInterval) : undefined;
}

function addMonths(v: DateTimeValue, months: number): number {
  const d = new Date(v.epochMs);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  return utcMs(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** VB DateAdd: the number is truncated to an integer; years and months clamp the day of month. */
export function dateAdd(interval: DateInterval, amount: number, v: DateTimeValue): DateTimeValue | DateProblem {
  const n = Math.trunc(amount);
  let ms: number;
  switch (interval) {
    case 'yyyy': ms = addMonths(v, n * 12); break;
    case 'q': ms = addMonths(v, n * 3); break;
    case 'm': ms = addMonths(v, n); break;
    case 'y': case 'd': case 'w': ms = v.epochMs + n * MS_PER_DAY; break;
    case 'ww': ms = v.epochMs + n * 7 * MS_PER_DAY; break;
    case 'h': ms = v.epochMs + n * 3_600_000; break;
    case 'n': ms = v.epochMs + n * 60_000; break;
    case 's': ms = v.epochMs + n * 1000; break;
  }
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return new DateProblem('the result is outside the range .NET can represent');
  return new DateTimeValue(ms, v.subMsTicks);
}

function totalMs(a: DateTimeValue, b: DateTimeValue): number {
  return b.epochMs - a.epochMs + (b.subMsTicks - a.subMsTicks) / 10_000;
}

/** VB DateDiff(interval, date1, date2): positive when date2 is later. */
export function dateDiff(interval: DateInterval, a: DateTimeValue, b: DateTimeValue): number {
  // Truncating a small negative span gives -0, which JSON and text would show as 0 anyway; keep it a plain 0.
  return vbDateDiff(interval, a, b) || 0;
}

function vbDateDiff(interval: DateInterval, a: DateTimeValue, b: DateTimeValue): number {
  const da = new Date(a.epochMs);
  const db = new Date(b.epochMs);
  switch (interval) {
    case 'yyyy': return db.getUTCFullYear() - da.getUTCFullYear();
    case 'q': return (db.getUTCFullYear() - da.getUTCFullYear()) * 4 + (Math.floor(db.getUTCMonth() / 3) - Math.floor(da.getUTCMonth() / 3));
    case 'm': return (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + (db.getUTCMonth() - da.getUTCMonth());
    case 'y': case 'd': return Math.trunc(totalMs(a, b) / MS_PER_DAY);
    case 'w': return Math.trunc(Math.trunc(totalMs(a, b) / MS_PER_DAY) / 7);
    case 'ww': {
      // Calendar weeks (Sunday first): move both dates back to their week's Sunday, then count whole weeks.
      const sa = a.epochMs - da.getUTCDay() * MS_PER_DAY;
      const sb = b.epochMs - db.getUTCDay() * MS_PER_DAY;
      return Math.trunc(Math.trunc((sb - sa + (b.subMsTicks - a.subMsTicks) / 10_000) / MS_PER_DAY) / 7);
    }
    case 'h': return Math.trunc(totalMs(a, b) / 3_600_000);
    case 'n': return Math.trunc(totalMs(a, b) / 60_000);
    case 's': return Math.trunc(totalMs(a, b) / 1000);
  }
}

// ---- AD FILETIME ---------------------------------------------------------------------------------

/** NumFromDate: FILETIME ticks as a decimal string, exact beyond Number.MAX_SAFE_INTEGER. */
export function toFileTime(v: DateTimeValue): string | DateProblem {
  const ticks = BigInt(v.epochMs) * 10_000n + BigInt(v.subMsTicks) + FILETIME_UNIX_EPOCH;
  if (ticks < 0n) return new DateProblem('dates before 1601-01-01 have no AD date number');
  return ticks.toString();
}

/** DateFromNum: FILETIME ticks (a number or a string of digits) to a DateTime. */
export function fromFileTime(text: string): DateTimeValue | DateProblem {
  if (!/^\d{1,19}$/.test(text)) return new DateProblem(`"${text}" is not an AD date number (100-ns ticks since 1601)`);
  const ticks = BigInt(text) - FILETIME_UNIX_EPOCH;
  const ms = ticks / 10_000n;
  let sub = ticks % 10_000n;
  let msNum = Number(ms);
  if (sub < 0n) { sub += 10_000n; msNum -= 1; }
  if (msNum > MAX_MS) return new DateProblem(`${text} is beyond 9999-12-31, the largest date .NET can represent (AD uses 9223372036854775807 for "never")`);
  return new DateTimeValue(msNum, Number(sub));
}
