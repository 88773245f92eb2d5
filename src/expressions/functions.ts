// The function library: every function of Entra's provisioning expression language, with its arity,
// compile-time checks of literal arguments, and its evaluation. Semantics follow Microsoft's reference
// (functions-for-customizing-application-data.md) and, where it is silent, .NET/VB; the choices made where
// the docs contradict themselves are listed in docs/expressions.md.
import type { Attributes, CallSite, Evaluator, FunctionSpec } from './compiler.js';
import {
  DateProblem, dateAdd, dateDiff, formatDateTime, fromFileTime, parseExactDateTime, toFileTime, toInterval,
  type DateInterval,
} from './dates.js';
import { compileDotNetRegex, regexExtractGroup, regexReplaceAll, regexReplaceGroup, RegexProblem, type DotNetRegex } from './regex.js';
import { fromBase64, guid, normalizeDiacritics, properCase, randomString, toBase64Utf16, toUtf8Hex, type TextEncoding } from './text.js';
import type { EvaluateOptions } from './types.js';
import {
  CoercionProblem, DateTimeValue, FlowSentinel, isArray, isNullOrEmpty, toBoolean, toText, type Value,
} from './values.js';

type Spec = Omit<FunctionSpec, 'minArgs' | 'maxArgs'> & { args: [number, number] };

function define(spec: Spec): FunctionSpec {
  const { args, ...rest } = spec;
  return { ...rest, minArgs: args[0], maxArgs: args[1] };
}

/** A function of its arguments' text values that maps null input to null output. */
function textTransform(name: string, fn: (s: string) => string): FunctionSpec {
  return define({
    name, args: [1, 1],
    compile: (site) => (a, o) => {
      const s = site.text(0, a, o);
      return s === null ? null : fn(s);
    },
  });
}

function nowOf(o: EvaluateOptions): DateTimeValue {
  return new DateTimeValue((o.now ?? new Date()).getTime());
}

/** A compile-time-checked date interval, or a runtime reader when the interval is computed. */
function intervalOf(site: CallSite): (a: Attributes, o: EvaluateOptions) => DateInterval {
  const literal = site.literalText(0);
  const bad = (text: string) => `"${text}" is not a date interval; use yyyy, q, m, y, d, w, ww, h, n or s`;
  if (literal !== undefined) {
    const interval = toInterval(literal);
    if (!interval) throw site.compileError('EXPR_TYPE', `${site.name}: ${bad(literal)}`, 0);
    return () => interval;
  }
  return (a, o) => {
    const text = site.text(0, a, o) ?? '';
    const interval = toInterval(text);
    if (!interval) throw site.runtimeError(bad(text), 0, 'EXPR_TYPE');
    return interval;
  };
}

/** A culture argument: empty means invariant; a literal is checked when compiling. */
/** ToLower / ToUpper: the text, with the culture of the optional second argument. */
function caseTransform(name: string, convert: (s: string, culture: string | undefined) => string): FunctionSpec {
  return define({
    name, args: [1, 2],
    compile: (site) => {
      const culture = cultureOf(site, 1);
      return (a, o) => {
        const s = site.text(0, a, o);
        return s === null ? null : convert(s, culture(a, o));
      };
    },
  });
}

function cultureOf(site: CallSite, i: number): (a: Attributes, o: EvaluateOptions) => string | undefined {
  const check = (text: string): string | undefined => {
    try {
      return Intl.getCanonicalLocales(text)[0];
    } catch {
      return undefined;
    }
  };
  if (site.isEmpty(i)) return () => undefined;
  const literal = site.literalText(i);
  if (literal !== undefined) {
    if (literal === '') return () => undefined;
    const culture = check(literal);
    if (!culture) throw site.compileError('EXPR_TYPE', `${site.name}: "${literal}" is not a culture name such as en-US or tr-TR`, i);
    return () => culture;
  }
  return (a, o) => {
    const text = site.text(i, a, o);
    if (!text) return undefined;
    const culture = check(text);
    if (!culture) throw site.runtimeError(`"${text}" is not a culture name such as en-US or tr-TR`, i, 'EXPR_TYPE');
    return culture;
  };
}

/** A regex argument: a literal pattern is translated and checked when compiling. */
function regexOf(site: CallSite, i: number): (a: Attributes, o: EvaluateOptions) => DotNetRegex {
  const literal = site.literalText(i);
  if (literal !== undefined) {
    const r = compileDotNetRegex(literal);
    if (r instanceof RegexProblem) throw site.compileError('EXPR_REGEX', `${site.name}: the regular expression cannot be used: ${r.message}`, i);
    return () => r;
  }
  return (a, o) => {
    const r = compileDotNetRegex(site.text(i, a, o) ?? '');
    if (r instanceof RegexProblem) throw site.runtimeError(`the regular expression cannot be used: ${r.message}`, i, 'EXPR_REGEX');
    return r;
  };
}

/** Integer argument; a literal is checked when compiling. */
function integerOf(site: CallSite, i: number, what: string): (a: Attributes, o: EvaluateOptions) => number | null {
  const literal = site.literalInteger(i, what);
  if (literal !== undefined) return () => literal;
  return (a, o) => {
    const n = site.number(i, a, o, what);
    return n === null ? null : Math.trunc(n);
  };
}

function dateResult(site: CallSite, d: DateTimeValue | DateProblem, argIndex?: number): DateTimeValue {
  if (d instanceof DateProblem) throw site.runtimeError(d.message, argIndex);
  return d;
}

/** App role assignments: from the options when the argument is [appRoleAssignments], else the attribute value. */
function roleAssignments(site: CallSite, a: Attributes, o: EvaluateOptions): { id?: string; value: string; displayName?: string }[] {
  const node = site.argNodes[0];
  if (o.appRoleAssignments && node?.kind === 'attribute' && node.name === 'appRoleAssignments') return o.appRoleAssignments;
  const v = site.arg(0)(a, o);
  if (v === null) return [];
  const list = isArray(v) ? v : [v];
  return list.map((item) => {
    if (typeof item === 'string') return { value: item };
    if (item && typeof item === 'object' && !isArray(item) && typeof (item as { value?: unknown }).value === 'string') {
      return item as { value: string; displayName?: string; id?: string };
    }
    throw site.runtimeError('expects app role assignments ({ id, value, displayName } objects)', 0, 'EXPR_TYPE');
  });
}

function complexRoles(site: CallSite, a: Attributes, o: EvaluateOptions): Value {
  return roleAssignments(site, a, o).map((r) => ({
    primary: false,
    type: 'WindowsAzureActiveDirectoryRole',
    ...(r.displayName !== undefined ? { displayName: r.displayName } : {}),
    value: r.value,
  }));
}

function flatten(v: Value, out: Value[]): void {
  if (isArray(v)) for (const x of v) flatten(x, out);
  else out.push(v);
}

const REPLACE_SLOTS = ['source', 'oldValue', 'regexPattern', 'regexGroupName', 'replacementValue', 'replacementAttributeName', 'template'];

function compileReplace(site: CallSite): Evaluator {
  const has = (i: number) => !site.isEmpty(i);
  const [oldValue, regexPattern, groupName, replacement, replacementAttribute, template] = [1, 2, 3, 4, 5, 6].map(has) as boolean[];
  const given = [1, 2, 3, 4, 5, 6].filter(has).map((i) => REPLACE_SLOTS[i]).join(', ');
  const source = (a: Attributes, o: EvaluateOptions) => site.text(0, a, o);
  if (oldValue && !regexPattern && !groupName && replacementAttribute === false) {
    if (replacement && !template) {
      // 1. Every occurrence of oldValue in source becomes replacementValue.
      return (a, o) => {
        const s = source(a, o);
        if (s === null) return null;
        const old = site.text(1, a, o) ?? '';
        return old === '' ? s : s.split(old).join(site.text(4, a, o) ?? '');
      };
    }
    if (template && !replacement) {
      // 2. Every occurrence of oldValue in template becomes the source value.
      return (a, o) => {
        const s = source(a, o);
        if (s === null) return null;
        const old = site.text(1, a, o) ?? '';
        const t = site.text(6, a, o) ?? '';
        return old === '' ? t : t.split(old).join(s);
      };
    }
  }
  if (regexPattern && !oldValue && !template) {
    const regex = regexOf(site, 2);
    if (!groupName && replacement && !replacementAttribute) {
      // 3. Regex replace-all with .NET substitutions such as ${phoneNumber}.
      return (a, o) => {
        const s = source(a, o);
        if (s === null) return null;
        return regexReplaceAll(regex(a, o), s, site.text(4, a, o) ?? '');
      };
    }
    if (groupName && replacement && !replacementAttribute) {
      // 4. Within every match, only the named group's text is replaced.
      return (a, o) => {
        const s = source(a, o);
        if (s === null) return null;
        const r = regexReplaceGroup(regex(a, o), s, site.text(3, a, o) ?? '', site.text(4, a, o) ?? '');
        if (r instanceof RegexProblem) throw site.runtimeError(r.message, 3);
        return r;
      };
    }
    if (groupName && replacementAttribute && !replacement) {
      // 5. Source when it has a value; otherwise the named group extracted from the replacement attribute.
      return (a, o) => {
        const s = source(a, o);
        if (s !== null && s !== '') return s;
        const from = site.text(5, a, o);
        if (from === null) return null;
        const r = regexExtractGroup(regex(a, o), from, site.text(3, a, o) ?? '');
        if (r instanceof RegexProblem) throw site.runtimeError(r.message, 3);
        return r;
      };
    }
  }
  throw site.compileError('EXPR_ARITY', `Replace: the filled arguments (${given || 'none besides source'}) are not one of Replace's forms: ` +
    'oldValue+replacementValue, oldValue+template, regexPattern+replacementValue, regexPattern+regexGroupName+replacementValue, ' +
    'or regexPattern+regexGroupName+replacementAttributeName');
}

function compileSwitch(site: CallSite): Evaluator {
  const source = site.arg(0);
  const hasDefault = !site.isEmpty(1);
  const fallback = site.arg(1);
  const pairs = (site.argNodes.length - 2) / 2;
  const sourceText = (a: Attributes, o: EvaluateOptions): string => {
    const v = source(a, o);
    if (typeof v === 'string') return v;
    const t = toText(v);
    if (t instanceof CoercionProblem) throw site.runtimeError(t.message, 0, 'EXPR_TYPE');
    return t ?? ''; // a missing source matches the key ""
  };
  const literalKeys: string[] = [];
  for (let p = 0; p < pairs; p++) {
    const k = site.literalText(2 + 2 * p);
    if (k === undefined) break;
    literalKeys.push(k);
  }
  if (site.ctx.optimize && literalKeys.length === pairs) {
    // All keys are literals: one map lookup instead of comparing key by key. First key wins on duplicates.
    const index = new Map<string, Evaluator>();
    literalKeys.forEach((k, p) => { if (!index.has(k)) index.set(k, site.arg(3 + 2 * p)); });
    return (a, o) => {
      const value = index.get(sourceText(a, o));
      if (value) return value(a, o);
      return hasDefault ? fallback(a, o) : null;
    };
  }
  return (a, o) => {
    const s = sourceText(a, o);
    for (let p = 0; p < pairs; p++) {
      const key = site.text(2 + 2 * p, a, o) ?? '';
      if (key === s) return site.arg(3 + 2 * p)(a, o);
    }
    return hasDefault ? fallback(a, o) : null;
  };
}

function compileItem(site: CallSite): Evaluator {
  const index = integerOf(site, 1, 'the index');
  const literalIndex = site.literalInteger(1, 'the index');
  if (literalIndex !== undefined && literalIndex < 1) {
    throw site.compileError('EXPR_TYPE', `Item: the index is 1-based; ${literalIndex} is not a valid position`, 1);
  }
  const inner = site.argNodes[0];
  // Item(Split(x, "d"), n): find the n-th piece without building the array (the DocuWare userName mapping).
  if (site.ctx.optimize && literalIndex !== undefined && inner?.kind === 'call' && inner.name.toLowerCase() === 'split'
    && inner.args.length === 2 && inner.args[1]!.kind === 'string' && inner.args[1]!.value !== '') {
    const delimiter = inner.args[1]!.value;
    const splitSource = site.arg(0) as Evaluator & { splitSource?: (a: Attributes, o: EvaluateOptions) => string | null };
    const text = splitSource.splitSource;
    if (text) {
      return (a, o) => {
        const s = text(a, o);
        if (s === null) return null;
        let from = 0;
        for (let n = 1; n < literalIndex; n++) {
          const at = s.indexOf(delimiter, from);
          if (at === -1) return null;
          from = at + delimiter.length;
        }
        const end = s.indexOf(delimiter, from);
        return end === -1 ? s.slice(from) : s.slice(from, end);
      };
    }
  }
  return (a, o) => {
    const v = site.arg(0)(a, o);
    if (v === null) return null;
    const i = index(a, o);
    if (i === null) return null;
    if (i < 1) throw site.runtimeError(`the index is 1-based; ${i} is not a valid position`, 1);
    if (!isArray(v)) return i === 1 ? v : null; // a single value is a list of one
    return i <= v.length ? (v[i - 1] ?? null) : null;
  };
}

const LIBRARY: FunctionSpec[] = [
  define({
    name: 'Append', args: [2, 2],
    compile: (site) => (a, o) => {
      const s = site.text(0, a, o);
      const suffix = site.text(1, a, o);
      if (s === null && suffix === null) return null;
      return (s ?? '') + (suffix ?? '');
    },
  }),
  define({ name: 'AppRoleAssignmentsComplex', args: [1, 1], compile: (site) => (a, o) => complexRoles(site, a, o) }),
  define({ name: 'AssertiveAppRoleAssignmentsComplex', args: [1, 1], compile: (site) => (a, o) => complexRoles(site, a, o) }),
  define({
    name: 'BitAnd', args: [2, 2],
    compile: (site) => {
      const x = integerOf(site, 0, 'value1');
      const y = integerOf(site, 1, 'value2');
      return (a, o) => {
        const l = x(a, o);
        const r = y(a, o);
        if (l === null || r === null) return null;
        const result = BigInt.asIntN(64, BigInt(l) & BigInt(r));
        return Number.isSafeInteger(Number(result)) ? Number(result) : result.toString();
      };
    },
  }),
  define({ name: 'CBool', args: [1, 1], compile: (site) => (a, o) => toBoolean(site.arg(0)(a, o)) }),
  define({ name: 'CDate', args: [1, 1], compile: (site) => (a, o) => site.date(0, a, o) }),
  define({
    name: 'Coalesce', args: [1, Infinity],
    compile: (site) => {
      const args = site.args;
      return (a, o) => {
        let sawEmpty = false;
        for (const arg of args) {
          const v = arg(a, o);
          if (v === '' || (isArray(v) && v.length === 0)) { sawEmpty = true; continue; }
          if (v !== null) return v;
        }
        return sawEmpty ? '' : null;
      };
    },
  }),
  define({
    name: 'ConvertFromBase64', args: [1, 2],
    compile: (site) => {
      const encodingOf = (text: string | null): TextEncoding | undefined => {
        switch ((text ?? 'unicode').toLowerCase()) {
          case '': case 'unicode': case 'utf16': case 'utf-16': return 'utf16le';
          case 'utf8': case 'utf-8': return 'utf8';
          case 'ascii': return 'ascii';
          default: return undefined;
        }
      };
      const literal = site.literalText(1);
      if (literal !== undefined && !encodingOf(literal)) throw site.compileError('EXPR_TYPE', `ConvertFromBase64: "${literal}" is not an encoding; use Unicode, UTF8 or ASCII`, 1);
      return (a, o) => {
        const s = site.text(0, a, o);
        if (s === null) return null;
        const encoding = encodingOf(site.isEmpty(1) ? null : site.text(1, a, o));
        if (!encoding) throw site.runtimeError('the encoding must be Unicode, UTF8 or ASCII', 1, 'EXPR_TYPE');
        const decoded = fromBase64(s, encoding);
        if (decoded === undefined) throw site.runtimeError('the value is not Base64', 0);
        return decoded;
      };
    },
  }),
  textTransform('ConvertToBase64', toBase64Utf16),
  textTransform('ConvertToUTF8Hex', toUtf8Hex),
  define({
    name: 'Count', args: [1, 1],
    compile: (site) => (a, o) => {
      const v = site.arg(0)(a, o);
      if (v === null) return 0;
      return isArray(v) ? v.length : 1;
    },
  }),
  define({ name: 'CStr', args: [1, 1], compile: (site) => (a, o) => site.text(0, a, o) }),
  define({
    name: 'DateAdd', args: [3, 3],
    compile: (site) => {
      const interval = intervalOf(site);
      const amount = integerOf(site, 1, 'the number to add');
      return (a, o) => {
        const i = interval(a, o);
        const n = amount(a, o);
        const d = site.date(2, a, o);
        if (n === null || d === null) return null;
        return dateResult(site, dateAdd(i, n, d));
      };
    },
  }),
  define({
    name: 'DateDiff', args: [3, 3],
    compile: (site) => {
      const interval = intervalOf(site);
      return (a, o) => {
        const i = interval(a, o);
        const d1 = site.date(1, a, o);
        const d2 = site.date(2, a, o);
        if (d1 === null || d2 === null) return null;
        return dateDiff(i, d1, d2);
      };
    },
  }),
  define({
    name: 'DateFromNum', args: [1, 1],
    compile: (site) => (a, o) => {
      const s = site.text(0, a, o);
      if (s === null) return null;
      return dateResult(site, fromFileTime(s.trim()), 0);
    },
  }),
  define({
    name: 'DefaultDomain', args: [0, 0],
    compile: (site) => (_a, o) => {
      if (!o.defaultDomain) throw site.runtimeError('no default domain is configured (set defaultDomain in the options or --default-domain)');
      return o.defaultDomain;
    },
  }),
  define({
    name: 'FormatDateTime', args: [3, 4],
    compile: (site) => {
      // FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat), or the legacy (source, inputFormat, outputFormat).
      const four = site.argNodes.length === 4;
      const input = four ? 2 : 1;
      const output = four ? 3 : 2;
      if (site.isEmpty(input)) throw site.compileError('EXPR_ARITY', 'FormatDateTime: the input format is required', input);
      if (site.isEmpty(output)) throw site.compileError('EXPR_ARITY', 'FormatDateTime: the output format is required', output);
      if (four) {
        const styles = site.literalText(1);
        if (styles !== undefined && !/^\s*(\w+\s*([,|]\s*\w+\s*)*)?$/.test(styles)) {
          throw site.compileError('EXPR_TYPE', `FormatDateTime: "${styles}" is not a list of DateTimeStyles names`, 1);
        }
      }
      return (a, o) => {
        const v = site.arg(0)(a, o);
        if (v === null) return null;
        let d: DateTimeValue;
        if (v instanceof DateTimeValue) d = v;
        else {
          const s = site.text(0, a, o);
          if (s === null) return null;
          d = dateResult(site, parseExactDateTime(s, site.text(input, a, o) ?? '', nowOf(o)), 0);
        }
        return formatDateTime(d, site.text(output, a, o) ?? '');
      };
    },
  }),
  define({ name: 'Guid', args: [0, 0], compile: () => (_a, o) => guid(o.random) }),
  define({
    name: 'IgnoreFlowIfNullOrEmpty', args: [1, 1], lazy: () => true,
    compile: (site) => (a, o) => {
      const v = site.arg(0)(a, o);
      if (v instanceof FlowSentinel) return v;
      return isNullOrEmpty(v) ? FlowSentinel.ignoreAttribute : v;
    },
  }),
  define({
    name: 'IIF', args: [3, 3], lazy: (i) => i > 0,
    compile: (site) => {
      const [condition, whenTrue, whenFalse] = [site.arg(0), site.arg(1), site.arg(2)];
      return (a, o) => (toBoolean(condition(a, o)) ? whenTrue(a, o) : whenFalse(a, o));
    },
  }),
  define({
    name: 'InStr', args: [2, 4],
    compile: (site) => {
      const start = site.isEmpty(2) ? () => 1 : integerOf(site, 2, 'start');
      const compareOf = (v: Value): 'binary' | 'text' | undefined => {
        const t = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.toLowerCase() : undefined;
        if (t === '0' || t === 'vbbinarycompare') return 'binary';
        if (t === '1' || t === 'vbtextcompare') return 'text';
        return undefined;
      };
      const node = site.argNodes[3];
      if (node && (node.kind === 'string' || node.kind === 'number') && !compareOf(site.literalText(3)!)) {
        throw site.compileError('EXPR_TYPE', 'InStr: compareType must be vbBinaryCompare or vbTextCompare', 3);
      }
      return (a, o) => {
        const haystack = site.text(0, a, o);
        const needle = site.text(1, a, o) ?? '';
        const from = start(a, o) ?? 1;
        if (from < 1) throw site.runtimeError(`start must be 1 or more, not ${from}`, 2);
        if (haystack === null) return 0;
        const mode = site.isEmpty(3) ? 'binary' : compareOf(site.arg(3)(a, o));
        if (!mode) throw site.runtimeError('compareType must be vbBinaryCompare or vbTextCompare', 3, 'EXPR_TYPE');
        if (from > haystack.length) return 0;
        if (needle === '') return from;
        const at = mode === 'text'
          ? haystack.toLowerCase().indexOf(needle.toLowerCase(), from - 1)
          : haystack.indexOf(needle, from - 1);
        return at + 1;
      };
    },
  }),
  define({ name: 'IsNull', args: [1, 1], compile: (site) => (a, o) => { const v = site.arg(0)(a, o); return v === null || (isArray(v) && v.length === 0); } }),
  define({ name: 'IsNullOrEmpty', args: [1, 1], compile: (site) => (a, o) => isNullOrEmpty(site.arg(0)(a, o)) }),
  define({ name: 'IsPresent', args: [1, 1], compile: (site) => (a, o) => !isNullOrEmpty(site.arg(0)(a, o)) }),
  define({
    name: 'IsString', args: [1, 1],
    compile: (site) => (a, o) => {
      const v = site.arg(0)(a, o);
      if (v === null) return false;
      const t = toText(v);
      return typeof t === 'string';
    },
  }),
  define({ name: 'Item', args: [2, 2], compile: compileItem }),
  define({
    name: 'Join', args: [2, Infinity],
    compile: (site) => (a, o) => {
      const separator = site.text(0, a, o) ?? '';
      const parts: string[] = [];
      for (let i = 1; i < site.args.length; i++) {
        const values: Value[] = [];
        flatten(site.arg(i)(a, o), values);
        for (const v of values) {
          if (v === null || v === '') continue; // Join skips missing and empty values
          const t = toText(v);
          if (t instanceof CoercionProblem) throw site.runtimeError(t.message, i, 'EXPR_TYPE');
          if (t !== null && t !== '') parts.push(t);
        }
      }
      return parts.join(separator);
    },
  }),
  define({
    name: 'Left', args: [2, 2],
    compile: (site) => {
      const count = integerOf(site, 1, 'NumChars');
      return (a, o) => {
        const s = site.text(0, a, o);
        const n = count(a, o);
        if (s === null) return '';
        if (n === null || n < 0) return s;
        return s.slice(0, n);
      };
    },
  }),
  define({ name: 'Len', args: [1, 1], compile: (site) => (a, o) => (site.text(0, a, o) ?? '').length }),
  define({
    name: 'Mid', args: [3, 3],
    compile: (site) => {
      const start = integerOf(site, 1, 'start');
      const length = integerOf(site, 2, 'length');
      const literalStart = site.literalInteger(1, 'start');
      if (literalStart !== undefined && literalStart < 1) throw site.compileError('EXPR_TYPE', `Mid: start is 1-based; ${literalStart} is not a valid position`, 1);
      const literalLength = site.literalInteger(2, 'length');
      if (literalLength !== undefined && literalLength < 0) throw site.compileError('EXPR_TYPE', 'Mid: length cannot be negative', 2);
      return (a, o) => {
        const s = site.text(0, a, o);
        if (s === null) return null;
        const from = start(a, o);
        const n = length(a, o);
        if (from === null || n === null) return null;
        if (from < 1) throw site.runtimeError(`start is 1-based; ${from} is not a valid position`, 1);
        if (n < 0) throw site.runtimeError('length cannot be negative', 2);
        return s.substr(from - 1, n);
      };
    },
  }),
  textTransform('NormalizeDiacritics', normalizeDiacritics),
  define({ name: 'Not', args: [1, 1], compile: (site) => (a, o) => !toBoolean(site.arg(0)(a, o)) }),
  define({ name: 'Now', args: [0, 0], compile: () => (_a, o) => nowOf(o) }),
  define({
    name: 'NumFromDate', args: [1, 1],
    compile: (site) => (a, o) => {
      const d = site.date(0, a, o);
      if (d === null) return null;
      const ticks = toFileTime(d);
      if (ticks instanceof DateProblem) throw site.runtimeError(ticks.message, 0);
      return ticks;
    },
  }),
  define({
    name: 'PCase', args: [1, 2],
    compile: (site) => (a, o) => {
      const s = site.text(0, a, o);
      if (s === null) return null;
      const separators = site.isEmpty(1) ? null : site.text(1, a, o);
      return properCase(s, separators === '' ? null : separators);
    },
  }),
  define({
    name: 'RandomString', args: [5, 6],
    compile: (site) => {
      const names = ['Length', 'MinimumNumbers', 'MinimumSpecialCharacters', 'MinimumCapital', 'MinimumLowerCase'];
      const ints = names.map((n, i) => integerOf(site, i, n));
      const literals = names.map((n, i) => site.literalInteger(i, n));
      const check = (v: (number | null | undefined)[]): string | undefined => {
        const [length, ...mins] = v;
        if (v.some((x) => x !== undefined && x !== null && x < 0)) return 'lengths and minimums cannot be negative';
        if (length !== undefined && length !== null && length > 256) return `Length is at most 256, not ${length}`;
        if (v.every((x) => typeof x === 'number')) {
          const sum = (mins as number[]).reduce((s, x) => s + x, 0);
          if (sum > (length as number)) return `Length ${length} is shorter than the sum of the minimums (${sum})`;
        }
        return undefined;
      };
      const problem = check(literals);
      if (problem) throw site.compileError('EXPR_TYPE', `RandomString: ${problem}`);
      return (a, o) => {
        const v = ints.map((f) => f(a, o));
        const runtimeProblem = check(v);
        if (runtimeProblem) throw site.runtimeError(runtimeProblem);
        const [length, minNumbers, minSpecial, minCapital, minLower] = v.map((x) => x ?? 0) as [number, number, number, number, number];
        const avoid = site.isEmpty(5) ? '' : (site.text(5, a, o) ?? '');
        const r = randomString({ length, minNumbers, minSpecial, minCapital, minLower, avoid }, o.random);
        if (typeof r !== 'string') throw site.runtimeError(r.problem, 5);
        return r;
      };
    },
  }),
  define({ name: 'Redact', args: [1, 1], lazy: () => true, compile: (site) => site.arg(0) }),
  define({
    name: 'RemoveDuplicates', args: [1, 1],
    compile: (site) => (a, o) => {
      const v = site.arg(0)(a, o);
      if (!isArray(v)) return v;
      const seen = new Set<unknown>();
      const out: Value[] = [];
      for (const x of v) {
        const key = typeof x === 'string' ? x : toText(x);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(x);
      }
      return out;
    },
  }),
  define({ name: 'Replace', args: [3, 7], compile: compileReplace }),
  define({
    name: 'SelectUniqueValue', args: [2, Infinity],
    compile: (site) => (a, o) => {
      const tried: string[] = [];
      for (let i = 0; i < site.args.length; i++) {
        const candidate = site.text(i, a, o);
        if (candidate === null || candidate === '') continue;
        if (!o.valueExists || !o.valueExists(candidate)) return candidate;
        tried.push(candidate);
      }
      throw site.runtimeError(tried.length
        ? `every candidate already exists on the target (${tried.map((t) => JSON.stringify(t)).join(', ')}); the object is held back`
        : 'no rule produced a value');
    },
  }),
  define({
    name: 'SingleAppRoleAssignment', args: [1, 1],
    compile: (site) => (a, o) => roleAssignments(site, a, o)[0]?.value ?? null,
  }),
  define({
    name: 'Split', args: [2, 2],
    compile: (site) => {
      const text = (a: Attributes, o: EvaluateOptions) => site.text(0, a, o);
      const evaluator: Evaluator = (a, o) => {
        const s = text(a, o);
        if (s === null) return null;
        const delimiter = site.text(1, a, o) ?? '';
        return delimiter === '' ? [s] : s.split(delimiter);
      };
      // Exposed so Item(Split(x, "d"), n) can read x without building the array.
      return Object.assign(evaluator, { splitSource: site.ctx.tracer ? undefined : text });
    },
  }),
  textTransform('StripSpaces', (s) => (s.includes(' ') ? s.replaceAll(' ', '') : s)),
  define({
    name: 'Switch', args: [4, Infinity], lazy: (i) => i === 1 || (i >= 3 && i % 2 === 1),
    checkArity: (n) => (n % 2 === 0 ? undefined : `keys and values must come in pairs after the source and default (got ${n} arguments)`),
    compile: compileSwitch,
  }),
  caseTransform('ToLower', (s, c) => (c ? s.toLocaleLowerCase(c) : s.toLowerCase())),
  caseTransform('ToUpper', (s, c) => (c ? s.toLocaleUpperCase(c) : s.toUpperCase())),
  textTransform('Trim', (s) => s.trim()),
  define({
    name: 'Word', args: [3, 3],
    compile: (site) => {
      const number = integerOf(site, 1, 'WordNumber');
      return (a, o) => {
        const s = site.text(0, a, o);
        const n = number(a, o);
        const delimiters = site.text(2, a, o) ?? '';
        if (s === null || n === null || n < 1) return '';
        const words: string[] = [];
        let current = '';
        for (const ch of s) {
          if (delimiters.includes(ch)) { if (current) words.push(current); current = ''; }
          else current += ch;
        }
        if (current) words.push(current);
        return words[n - 1] ?? '';
      };
    },
  }),
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(LIBRARY.map((spec) => [spec.name.toLowerCase(), spec]));
