// SCIM attribute paths as written in mappings (RFC 7644 §3.10 / 3.5.2) and the `eq` filters built from them.
//   userName · name.givenName · emails[type eq "work"].value · urn:…:enterprise:2.0:User:department
// Filter values are JSON strings (quotes and backslashes escaped), so a value can never add an operator:
// `a" or userName pr or userName eq "b` stays one quoted literal.
import { TargetError } from '../connector.js';

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export type FilterValue = string | number | boolean | null;

export interface ScimPath {
  /** Extension schema URN, or undefined for a core attribute. */
  urn: string | undefined;
  attribute: string;
  /** A value selection filter on a multi-valued attribute: `[type eq "work"]`. */
  filter: { attribute: string; value: FilterValue } | undefined;
  subAttribute: string | undefined;
}

const NAME = '[A-Za-z$][A-Za-z0-9_$-]*';
const LITERAL = '"(?:[^"\\\\]|\\\\.)*"|true|false|null|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
const PATH_RE = new RegExp(`^(${NAME})(?:\\[\\s*(${NAME})\\s+eq\\s+(${LITERAL})\\s*\\])?(?:\\.(${NAME}))?$`, 'i');

function invalid(path: string, why: string): TargetError {
  return new TargetError({ kind: 'badRequest', target: '', message: `invalid SCIM attribute path ${JSON.stringify(path)}: ${why}` });
}

const parsedPaths = new Map<string, ScimPath>();

/** Parsed once per distinct path: mappings use a handful of paths for every object. */
export function parseScimPath(path: string): ScimPath {
  let parsed = parsedPaths.get(path);
  if (!parsed) {
    parsed = Object.freeze(parsePath(path));
    if (parsedPaths.size < 10_000) parsedPaths.set(path, parsed);
  }
  return parsed;
}

function parsePath(path: string): ScimPath {
  let urn: string | undefined;
  let rest = path.trim();
  if (/^urn:/i.test(rest)) {
    // The attribute starts after the last ':' outside the value filter.
    const bracket = rest.indexOf('[');
    const head = bracket === -1 ? rest : rest.slice(0, bracket);
    const colon = head.lastIndexOf(':');
    if (colon === -1) throw invalid(path, 'no attribute after the schema URN');
    urn = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    if (urn.toLowerCase() === CORE_USER_SCHEMA.toLowerCase() || urn.toLowerCase() === CORE_GROUP_SCHEMA.toLowerCase()) urn = undefined;
  }
  const m = PATH_RE.exec(rest);
  if (!m) throw invalid(path, 'expected attr, attr.sub or attr[sub eq "value"].sub');
  const [, attribute, filterAttribute, literal, subAttribute] = m;
  return {
    urn,
    attribute: attribute!,
    filter: filterAttribute !== undefined ? { attribute: filterAttribute, value: JSON.parse(literal!) as FilterValue } : undefined,
    subAttribute,
  };
}

/** A filter comparison literal: JSON for strings (escapes `"` and `\`), bare for numbers, booleans, null. */
export function filterLiteral(value: FilterValue): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw invalid(String(value), 'not a finite number');
  return JSON.stringify(value);
}

function prefix(p: ScimPath): string {
  return p.urn ? `${p.urn}:${p.attribute}` : p.attribute;
}

/** The path in canonical form, with the filter literal re-escaped. */
export function formatScimPath(p: ScimPath): string {
  let out = prefix(p);
  if (p.filter) out += `[${p.filter.attribute} eq ${filterLiteral(p.filter.value)}]`;
  if (p.subAttribute) out += `.${p.subAttribute}`;
  return out;
}

/** The path of the multi-valued attribute itself (`emails`), for `add` of a new typed value. */
export function formatContainerPath(p: ScimPath): string {
  return prefix(p);
}

/**
 * `path eq value`. For a filtered path the RFC 7644 form nests both conditions in the value filter
 * (`emails[type eq "work" and value eq "x"]`); Entra's legacy form appends the sub-attribute
 * (`emails[type eq "work"].value eq "x"`), which servers built against Entra understand.
 */
export function buildEqFilter(path: string, value: FilterValue, dialect: 'rfc7644' | 'entraLegacy' = 'rfc7644'): string {
  const p = parseScimPath(path);
  if (p.filter && p.subAttribute && dialect === 'rfc7644') {
    return `${prefix(p)}[${p.filter.attribute} eq ${filterLiteral(p.filter.value)} and ${p.subAttribute} eq ${filterLiteral(value)}]`;
  }
  return `${formatScimPath(p)} eq ${filterLiteral(value)}`;
}

/** Member removal path: `members[value eq "id"]`, one member, never the whole attribute. */
export function memberFilterPath(memberId: string): string {
  return `members[value eq ${filterLiteral(memberId)}]`;
}

/** An id as one URL path segment: some servers use userNames (with `@`, spaces, quotes, slashes) as ids. */
export function idSegment(id: string): string {
  return encodeURIComponent(id);
}
