// Evaluating a parsed SCIM filter against a stored resource. Comparison follows each attribute's
// `caseExact` from the schema (userName matches case-insensitively, externalId and id do not).

import { ScimError } from './errors.js';
import type { AttrPath, Filter, Literal } from './filter.js';
import { findAttribute, lookupAttribute, type AttributeDef, type ResourceSchema } from './schema.js';

type Obj = Record<string, unknown>;

/** Where attribute names resolve: the resource root (core + extensions) or one value of a multi-valued attribute. */
interface Scope {
  def(path: AttrPath): AttributeDef | undefined;
  container(obj: Obj, path: AttrPath): Obj | undefined;
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property by exact name first (stored resources are canonical), then case-insensitively. */
export function getCI(obj: unknown, key: string): unknown {
  if (!isObject(obj)) return undefined;
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

export function rootScope(rs: ResourceSchema): Scope {
  const coreUrn = rs.core.id.toLowerCase();
  return {
    def: (path) => lookupAttribute(rs, path.urn, path.attr),
    container(obj, path) {
      if (path.urn === undefined || path.urn.toLowerCase() === coreUrn) return obj;
      const ext = getCI(obj, path.urn);
      return isObject(ext) ? ext : undefined;
    },
  };
}

function elementScope(parent: AttributeDef | undefined): Scope {
  return {
    def: (path) => findAttribute(parent?.subAttributes, path.attr),
    container: (obj, path) => (path.urn === undefined ? obj : undefined),
  };
}

function valuesOf(obj: Obj, path: AttrPath, scope: Scope): { values: unknown[]; def: AttributeDef | undefined } {
  const container = scope.container(obj, path);
  const def = scope.def(path);
  if (!container) return { values: [], def };
  const raw = getCI(container, def?.name ?? path.attr);
  let values: unknown[];
  let leafDef = def;
  if (path.sub !== undefined) {
    leafDef = findAttribute(def?.subAttributes, path.sub);
    const items = Array.isArray(raw) ? raw : [raw];
    values = items.map((item) => getCI(item, leafDef?.name ?? path.sub!));
  } else if (Array.isArray(raw)) {
    // `emails eq "x"` compares the primary `value` sub-attribute of each element.
    values = raw.map((e) => (isObject(e) ? e.value : e));
    if (def?.type === 'complex') leafDef = findAttribute(def.subAttributes, 'value');
  } else {
    values = [raw];
  }
  return { values: values.filter((v) => v !== undefined && v !== null && !isObject(v)), def: leafDef };
}

function compareOne(value: unknown, op: string, lit: Literal, def: AttributeDef | undefined): boolean {
  if (typeof lit === 'boolean' || typeof value === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw new ScimError(400, `operator "${op}" cannot compare booleans`, 'invalidFilter');
    const v = typeof value === 'string' ? value.toLowerCase() === 'true' : value;
    const l = typeof lit === 'string' ? lit.toLowerCase() === 'true' : lit;
    return op === 'eq' ? v === l : v !== l;
  }
  if (typeof value === 'number' && typeof lit === 'number') return ordered(value, lit, op);
  if (typeof value !== 'string' || typeof lit !== 'string') return op === 'ne';
  if (def?.type === 'dateTime' && ['gt', 'ge', 'lt', 'le', 'eq', 'ne'].includes(op)) {
    const a = Date.parse(value);
    const b = Date.parse(lit);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return ordered(a, b, op);
  }
  const fold = def?.caseExact !== true;
  const a = fold ? value.toLowerCase() : value;
  const b = fold ? lit.toLowerCase() : lit;
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return ordered(a, b, op);
  }
}

function ordered<T extends string | number>(a: T, b: T, op: string): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      throw new ScimError(400, `operator "${op}" cannot compare ${typeof a} values`, 'invalidFilter');
  }
}

export function evaluate(filter: Filter, obj: Obj, scope: Scope): boolean {
  switch (filter.kind) {
    case 'and':
      return evaluate(filter.left, obj, scope) && evaluate(filter.right, obj, scope);
    case 'or':
      return evaluate(filter.left, obj, scope) || evaluate(filter.right, obj, scope);
    case 'not':
      return !evaluate(filter.filter, obj, scope);
    case 'present': {
      const container = scope.container(obj, filter.path);
      const def = scope.def(filter.path);
      const raw = container ? getCI(container, def?.name ?? filter.path.attr) : undefined;
      if (filter.path.sub === undefined) return raw !== undefined && raw !== null && raw !== '' && !(Array.isArray(raw) && raw.length === 0);
      return valuesOf(obj, filter.path, scope).values.some((v) => v !== '');
    }
    case 'valuePath': {
      const container = scope.container(obj, filter.path);
      const def = scope.def(filter.path);
      const raw = container ? getCI(container, def?.name ?? filter.path.attr) : undefined;
      const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
      const inner = elementScope(def);
      return items.some((item) => isObject(item) && evaluate(filter.filter, item, inner));
    }
    case 'compare': {
      const { values, def } = valuesOf(obj, filter.path, scope);
      if (filter.value === null) return filter.op === 'eq' ? values.length === 0 : filter.op === 'ne' ? values.length > 0 : false;
      if (filter.op === 'ne') return !values.some((v) => compareOne(v, 'eq', filter.value, def));
      return values.some((v) => compareOne(v, filter.op, filter.value, def));
    }
  }
}

/** Evaluate inside one value of a multi-valued attribute (for PATCH `emails[type eq "work"]`). */
export function evaluateElement(filter: Filter, element: Obj, parent: AttributeDef | undefined): boolean {
  return evaluate(filter, element, elementScope(parent));
}
