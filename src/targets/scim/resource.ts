// Translation between mapping paths and SCIM resources (RFC 7643): paths → a resource for POST/PUT,
// and a resource → values keyed by the same paths, for matching and reconcile.
import type { ObjectType, TargetAttributes, TargetObject } from '../connector.js';
import { CORE_GROUP_SCHEMA, CORE_USER_SCHEMA, parseScimPath, type FilterValue, type ScimPath } from './path.js';

type Json = Record<string, unknown>;

export function coreSchema(type: ObjectType): string {
  return type === 'user' ? CORE_USER_SCHEMA : CORE_GROUP_SCHEMA;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null;
}

function sameFilterValue(actual: unknown, wanted: FilterValue): boolean {
  // `type` and similar canonical values are caseExact=false in RFC 7643.
  if (typeof actual === 'string' && typeof wanted === 'string') return actual.toLowerCase() === wanted.toLowerCase();
  return actual === wanted;
}

function getKey(obj: Json, key: string): unknown {
  if (key in obj) return obj[key];
  // Attribute names are case-insensitive (RFC 7643 §2.1); servers do not always echo our casing.
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** Place one value at a parsed path inside a resource, creating containers as needed. */
export function setAtPath(resource: Json, p: ScimPath, value: unknown): void {
  const container: Json = p.urn ? ((resource[p.urn] as Json | undefined) ?? (resource[p.urn] = {})) : resource;
  if (p.filter) {
    const list = Array.isArray(container[p.attribute]) ? (container[p.attribute] as Json[]) : (container[p.attribute] = []);
    const filter = p.filter;
    let element = (list as Json[]).find((e) => sameFilterValue(e[filter.attribute], filter.value));
    if (!element) {
      element = { [filter.attribute]: filter.value };
      (list as Json[]).push(element);
    }
    if (p.subAttribute) element[p.subAttribute] = value;
    else if (value && typeof value === 'object') Object.assign(element, value);
    return;
  }
  if (p.subAttribute) {
    const complex = (container[p.attribute] as Json | undefined) ?? (container[p.attribute] = {});
    complex[p.subAttribute] = value;
    return;
  }
  container[p.attribute] = value;
}

/** A SCIM resource for POST/PUT: nested objects, typed multi-valued entries, extension objects and `schemas`. */
export function toScimResource(type: ObjectType, attributes: TargetAttributes, extraSchemas: string[] = []): Json {
  const resource: Json = {};
  const schemas = [coreSchema(type)];
  for (const [path, value] of Object.entries(attributes)) {
    if (isEmpty(value)) continue;
    const p = parseScimPath(path);
    if (p.urn && !schemas.includes(p.urn)) schemas.push(p.urn);
    setAtPath(resource, p, value);
  }
  for (const s of extraSchemas) if (!schemas.includes(s)) schemas.push(s);
  return { schemas, ...resource };
}

/** The value a resource holds at a mapping path (undefined when absent). */
export function readScimPath(resource: Json, path: string): unknown {
  const p = parseScimPath(path);
  let container: unknown = resource;
  if (p.urn) container = getKey(resource, p.urn);
  if (!container || typeof container !== 'object') return undefined;
  const attr = getKey(container as Json, p.attribute);
  if (p.filter) {
    if (!Array.isArray(attr)) return undefined;
    const filter = p.filter;
    const element = (attr as unknown[]).find(
      (e) => e !== null && typeof e === 'object' && sameFilterValue(getKey(e as Json, filter.attribute), filter.value),
    ) as Json | undefined;
    if (!element) return undefined;
    return p.subAttribute ? getKey(element, p.subAttribute) : element;
  }
  if (p.subAttribute) return attr && typeof attr === 'object' && !Array.isArray(attr) ? getKey(attr as Json, p.subAttribute) : undefined;
  return attr;
}

const SKIPPED = new Set(['schemas', 'meta', 'id', 'members']);

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function flattenInto(out: TargetAttributes, prefix: string, obj: Json, top: boolean): void {
  for (const [key, value] of Object.entries(obj)) {
    if (top && SKIPPED.has(key)) continue;
    if (top && /^urn:/i.test(key)) {
      if (value && typeof value === 'object' && !Array.isArray(value)) flattenInto(out, `${key}:`, value as Json, false);
      continue;
    }
    const path = `${prefix}${key}`;
    if (isScalar(value)) {
      out[path] = value;
    } else if (Array.isArray(value)) {
      // Multi-valued complex attributes are addressed by their `type`, the way mappings write them.
      let typed = false;
      for (const element of value) {
        if (element && typeof element === 'object' && typeof (element as Json).type === 'string') {
          typed = true;
          const t = JSON.stringify((element as Json).type);
          for (const [sub, subValue] of Object.entries(element as Json)) {
            if (sub !== 'type' && isScalar(subValue)) out[`${path}[type eq ${t}].${sub}`] = subValue;
          }
        }
      }
      if (!typed && value.every(isScalar)) out[path] = value;
    } else if (value && typeof value === 'object') {
      for (const [sub, subValue] of Object.entries(value as Json)) {
        if (isScalar(subValue)) out[`${path}.${sub}`] = subValue;
      }
    }
  }
}

/** Every readable value of a resource keyed by mapping-style paths (core, complex, typed multi-valued, extensions). */
export function flattenScimResource(resource: Json): TargetAttributes {
  const out: TargetAttributes = {};
  flattenInto(out, '', resource, true);
  return out;
}

export function toTargetObject(resource: Json, etagHeader?: string): TargetObject {
  const meta = resource.meta as Json | undefined;
  const version = typeof meta?.version === 'string' ? meta.version : etagHeader;
  const object: TargetObject = { id: String(resource.id), attributes: flattenScimResource(resource) };
  if (version) object.etag = version;
  return object;
}
