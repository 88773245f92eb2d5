// PATCH operations (RFC 7644 §3.5.2) applied to a copy of a resource, so a failing operation leaves the
// stored resource untouched (PATCH is atomic). Accepts the compliant dialect and Entra's legacy one
// (capitalised ops, "True"/"False" strings, member removal by value array, no-path maps with dotted and
// URN keys). Group membership operations are returned separately: members live in a Map in the store.

import { ScimError } from './errors.js';
import { evaluateElement, getCI, isObject } from './evaluate.js';
import { parseAttrPath, parsePatchPath, type Filter, type PatchPath } from './filter.js';
import { canonicalValue, findAttribute, lookupAttribute, URN, type AttributeDef, type ResourceSchema } from './schema.js';
import type { Obj } from './store.js';

export type PatchOpName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  op: PatchOpName;
  path: PatchPath | undefined;
  /** The path as the client wrote it, for error messages. */
  rawPath: string | undefined;
  value: unknown;
}

export type MemberChange =
  | { kind: 'add'; members: { value: string; type?: string; display?: string }[] }
  | { kind: 'remove'; values: string[] }
  | { kind: 'removeWhere'; filter: Filter }
  /** Every member goes; `byReplace` when it is the first half of `replace members`. */
  | { kind: 'clear'; byReplace?: boolean };

export interface PatchContext {
  rs: ResourceSchema;
  isGroup: boolean;
  /** Entra-tuned servers create the value a filtered `replace` names when none matches; RFC says 400 noTarget. */
  upsertFilteredReplace: boolean;
  /** Attributes a profile accepts in PATCH (lower-cased top-level names or `urn:attr`); undefined = all. */
  honoured?: (urn: string | undefined, attr: string) => boolean;
}

/** Validate the PatchOp envelope and expand no-path operations into one operation per attribute. */
export function readPatchRequest(body: unknown, rs: ResourceSchema): PatchOperation[] {
  if (!isObject(body)) throw new ScimError(400, 'PATCH body must be a JSON object', 'invalidSyntax');
  const schemas = getCI(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === URN.patchOp.toLowerCase())) {
    throw new ScimError(400, `PATCH body must list "${URN.patchOp}" in schemas`, 'invalidSyntax');
  }
  const operations = getCI(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) throw new ScimError(400, 'PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  const knownUrns = [rs.core.id, ...rs.extensions.map((e) => e.id)];
  const out: PatchOperation[] = [];
  operations.forEach((raw, index) => {
    if (!isObject(raw)) throw new ScimError(400, `Operations[${index}] must be an object`, 'invalidSyntax');
    const opRaw = getCI(raw, 'op');
    const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : '';
    if (op !== 'add' && op !== 'remove' && op !== 'replace') throw new ScimError(400, `Operations[${index}].op ${JSON.stringify(opRaw)} is not add, remove or replace`, 'invalidSyntax');
    const pathRaw = getCI(raw, 'path');
    const value = getCI(raw, 'value');
    if (pathRaw === undefined || pathRaw === null || pathRaw === '') {
      if (op === 'remove') throw new ScimError(400, `Operations[${index}]: remove needs a path`, 'noTarget');
      if (!isObject(value)) throw new ScimError(400, `Operations[${index}]: without a path, value must be an object of attributes`, 'invalidSyntax');
      for (const [key, v] of Object.entries(value)) {
        const ext = rs.extensionByUrn.get(key.toLowerCase());
        if (ext && isObject(v)) {
          for (const [sub, sv] of Object.entries(v)) out.push({ op, path: { path: { urn: ext.id, attr: sub } }, rawPath: `${ext.id}:${sub}`, value: sv });
          continue;
        }
        if (key.toLowerCase() === 'schemas') continue;
        let path: PatchPath;
        try {
          path = { path: parseAttrPath(key, knownUrns) };
        } catch {
          throw new ScimError(400, `Operations[${index}]: "${key}" is not an attribute`, 'invalidPath');
        }
        out.push({ op, path, rawPath: key, value: v });
      }
      return;
    }
    if (typeof pathRaw !== 'string') throw new ScimError(400, `Operations[${index}].path must be a string`, 'invalidPath');
    out.push({ op, path: parsePatchPath(pathRaw, knownUrns), rawPath: pathRaw, value });
  });
  return out;
}

/** Apply operations to `resource` (a private copy). Returns the membership changes for the caller to apply. */
export function applyPatch(resource: Obj, ops: PatchOperation[], ctx: PatchContext): MemberChange[] {
  const memberChanges: MemberChange[] = [];
  for (const op of ops) {
    const target = op.path!;
    if (ctx.isGroup && target.path.urn === undefined && target.path.attr.toLowerCase() === 'members') {
      memberChanges.push(...memberChange(op, target, ctx));
      continue;
    }
    applyOne(resource, op, target, ctx);
  }
  return memberChanges;
}

function memberChange(op: PatchOperation, target: PatchPath, ctx: PatchContext): MemberChange[] {
  if (target.path.sub !== undefined) throw new ScimError(400, `"${op.rawPath}": member values are immutable; add or remove members instead`, 'invalidPath');
  if (target.filter) {
    if (op.op !== 'remove') throw new ScimError(400, `"${op.rawPath}": only remove takes a member filter; use add to add members`, 'invalidPath');
    const f = target.filter;
    if (f.kind === 'compare' && f.op === 'eq' && f.path.attr.toLowerCase() === 'value' && f.path.sub === undefined && typeof f.value === 'string') {
      return [{ kind: 'remove', values: [f.value] }];
    }
    return [{ kind: 'removeWhere', filter: f }];
  }
  const membersDef = lookupAttribute(ctx.rs, undefined, 'members')!;
  if (op.op === 'remove') {
    // Entra's legacy form: remove with a value array names the members to remove. Without a value,
    // RFC 7644 says every member goes — servers do that, so a client must never send it by accident.
    if (op.value === undefined || op.value === null) return [{ kind: 'clear' }];
    const values = toMembers(canonicalValue(membersDef, op.value, 'members')).map((m) => m.value);
    return [{ kind: 'remove', values }];
  }
  const members = toMembers(canonicalValue(membersDef, op.value, 'members'));
  return op.op === 'replace' ? [{ kind: 'clear', byReplace: true }, { kind: 'add', members }] : [{ kind: 'add', members }];
}

export function toMembers(value: unknown): { value: string; type?: string; display?: string }[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((m, i) => {
    if (!isObject(m) || typeof m.value !== 'string' || m.value === '') throw new ScimError(400, `members[${i}] needs a "value" with the member's id`, 'invalidValue');
    const out: { value: string; type?: string; display?: string } = { value: m.value };
    if (typeof m.type === 'string') out.type = m.type;
    if (typeof m.display === 'string') out.display = m.display;
    return out;
  });
}

function applyOne(resource: Obj, op: PatchOperation, target: PatchPath, ctx: PatchContext): void {
  const { path, filter } = target;
  const ext = path.urn !== undefined && path.urn.toLowerCase() !== ctx.rs.core.id.toLowerCase() ? ctx.rs.extensionByUrn.get(path.urn.toLowerCase()) : undefined;
  if (path.urn !== undefined && path.urn.toLowerCase() !== ctx.rs.core.id.toLowerCase() && !ext) {
    throw new ScimError(400, `"${op.rawPath}": schema ${path.urn} is not supported here`, 'invalidPath');
  }
  if (path.attr === '') {
    // The whole extension object.
    if (op.op === 'remove') {
      delete resource[ext!.id];
      return;
    }
    if (!isObject(op.value)) throw new ScimError(400, `"${op.rawPath}": value must be an object`, 'invalidValue');
    for (const [k, v] of Object.entries(op.value)) applyOne(resource, { ...op, value: v, rawPath: `${ext!.id}:${k}` }, { path: { urn: ext!.id, attr: k } }, ctx);
    return;
  }
  const def = ext ? findAttribute(ext.attributes, path.attr) : lookupAttribute(ctx.rs, undefined, path.attr);
  if (!def && !ext && path.urn === undefined) {
    // Entra writes `manager` without its URN; accept a bare name that exactly one extension defines.
    const owners = ctx.rs.extensions.filter((e) => findAttribute(e.attributes, path.attr));
    if (owners.length === 1) return applyOne(resource, op, { ...target, path: { ...path, urn: owners[0]!.id } }, ctx);
  }
  if (!def) throw new ScimError(400, `"${op.rawPath}": no attribute "${path.attr}" in ${ext?.id ?? ctx.rs.core.id}`, 'invalidPath');
  if (def.mutability === 'readOnly') throw new ScimError(400, `"${op.rawPath}": ${def.name} is read-only`, 'mutability');
  if (ctx.honoured && !ctx.honoured(ext?.id, def.name)) throw new ScimError(400, `"${op.rawPath}": this service does not handle ${def.name}`, 'invalidPath');

  let container: Obj;
  if (ext) {
    const existing = resource[ext.id];
    if (!isObject(existing)) {
      if (op.op === 'remove') return;
      resource[ext.id] = {};
    }
    container = resource[ext.id] as Obj;
  } else {
    container = resource;
  }
  const name = def.name;
  const where = op.rawPath ?? name;

  if (!filter) {
    if (path.sub === undefined) applyWhole(container, def, op, where);
    else applySub(container, def, path.sub, op, where);
  } else {
    applyFiltered(container, def, filter, path.sub, op, where, ctx);
  }
  if (ext && isObject(resource[ext.id]) && Object.keys(resource[ext.id] as Obj).length === 0) delete resource[ext.id];
  if (def.multiValued) enforceSinglePrimary(container, name);
}

function applyWhole(container: Obj, def: AttributeDef, op: PatchOperation, where: string): void {
  const name = def.name;
  if (op.op === 'remove') {
    if (def.multiValued && op.value !== undefined && op.value !== null && Array.isArray(container[name])) {
      const drop = new Set((canonicalValue(def, op.value, where) as unknown[]).map((v) => JSON.stringify(isObject(v) ? v.value : v)));
      const kept = (container[name] as unknown[]).filter((v) => !drop.has(JSON.stringify(isObject(v) ? v.value : v)));
      if (kept.length > 0) container[name] = kept;
      else delete container[name];
    } else {
      delete container[name];
    }
    return;
  }
  const value = canonicalValue(def, op.value, where);
  if (value === undefined) {
    if (op.op === 'replace') delete container[name];
    return;
  }
  const existing = container[name];
  if (def.multiValued) {
    const incoming = value as unknown[];
    if (op.op === 'replace' || !Array.isArray(existing)) {
      container[name] = incoming;
    } else {
      const seen = new Set(existing.map((v) => JSON.stringify(v)));
      container[name] = [...existing, ...incoming.filter((v) => !seen.has(JSON.stringify(v)))];
    }
  } else if (def.type === 'complex') {
    // RFC 7644 §3.5.2.3: sub-attributes not named in the value are left unchanged.
    container[name] = { ...(isObject(existing) ? existing : {}), ...(value as Obj) };
  } else {
    container[name] = value;
  }
}

function applySub(container: Obj, def: AttributeDef, sub: string, op: PatchOperation, where: string): void {
  const subDef = findAttribute(def.subAttributes, sub);
  if (!subDef) throw new ScimError(400, `"${where}": ${def.name} has no sub-attribute "${sub}"`, 'invalidPath');
  if (subDef.mutability === 'readOnly') throw new ScimError(400, `"${where}" is read-only`, 'mutability');
  const name = def.name;
  const value = op.op === 'remove' ? undefined : canonicalValue(subDef, op.value, where);
  if (def.multiValued) {
    const items = Array.isArray(container[name]) ? (container[name] as Obj[]) : [];
    for (const item of items) {
      if (value === undefined) delete item[subDef.name];
      else item[subDef.name] = value;
    }
    return;
  }
  const obj = isObject(container[name]) ? (container[name] as Obj) : {};
  if (value === undefined) delete obj[subDef.name];
  else obj[subDef.name] = value;
  if (Object.keys(obj).length === 0) delete container[name];
  else container[name] = obj;
}

function applyFiltered(container: Obj, def: AttributeDef, filter: Filter, sub: string | undefined, op: PatchOperation, where: string, ctx: PatchContext): void {
  if (!def.multiValued || def.type !== 'complex') throw new ScimError(400, `"${where}": a value filter needs a multi-valued complex attribute`, 'invalidPath');
  const name = def.name;
  const subDef = sub === undefined ? undefined : findAttribute(def.subAttributes, sub);
  if (sub !== undefined && !subDef) throw new ScimError(400, `"${where}": ${name} has no sub-attribute "${sub}"`, 'invalidPath');
  const items = Array.isArray(container[name]) ? [...(container[name] as Obj[])] : [];
  const matched = items.filter((item) => isObject(item) && evaluateElement(filter, item, def));

  if (op.op === 'remove') {
    if (subDef) for (const item of matched) delete item[subDef.name];
    const kept = subDef ? items : items.filter((item) => !matched.includes(item));
    if (kept.length > 0) container[name] = kept;
    else delete container[name];
    return;
  }

  if (matched.length === 0) {
    if (op.op === 'replace' && !ctx.upsertFilteredReplace) throw new ScimError(400, `"${where}": no value of ${name} matches the filter`, 'noTarget');
    // Create the value the filter describes (`emails[type eq "work"].value` → a new work email).
    const created = canonicalValue({ ...def, multiValued: false }, valueFromFilter(filter, where), where) as Obj;
    items.push(created);
    matched.push(created);
  }
  for (const item of matched) {
    const index = items.indexOf(item);
    if (subDef) {
      const v = canonicalValue(subDef, op.value, where);
      if (v === undefined) delete item[subDef.name];
      else item[subDef.name] = v;
    } else {
      const v = canonicalValue({ ...def, multiValued: false }, op.value, where);
      if (!isObject(v)) throw new ScimError(400, `"${where}": value must be an object`, 'invalidValue');
      items[index] = op.op === 'add' ? { ...item, ...v } : { ...(canonicalValue({ ...def, multiValued: false }, valueFromFilterOrEmpty(filter), where) as Obj), ...v };
    }
  }
  container[name] = items;
}

function valueFromFilter(filter: Filter, where: string): Obj {
  const out = valueFromFilterOrEmpty(filter);
  if (Object.keys(out).length === 0) throw new ScimError(400, `"${where}": no value matches and the filter does not describe one to create`, 'noTarget');
  return out;
}

function valueFromFilterOrEmpty(filter: Filter): Obj {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.sub === undefined && filter.value !== null) return { [filter.path.attr]: filter.value };
  if (filter.kind === 'and') {
    const left = valueFromFilterOrEmpty(filter.left);
    const right = valueFromFilterOrEmpty(filter.right);
    if (Object.keys(left).length === 0 || Object.keys(right).length === 0) return {};
    return { ...left, ...right };
  }
  return {};
}

/** RFC 7643 §2.4: at most one value of a multi-valued attribute is primary; the newest one wins. */
function enforceSinglePrimary(container: Obj, name: string): void {
  const items = container[name];
  if (!Array.isArray(items)) return;
  let seen = false;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as unknown;
    if (isObject(item) && item.primary === true) {
      if (seen) items[i] = { ...item, primary: false };
      seen = true;
    }
  }
}
