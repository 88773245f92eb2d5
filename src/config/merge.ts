// Applying a preset to a target as written: the user's fields win field by field, and mappings merge by
// target path (same path replaces the preset's mapping in place, a new path is added, `remove: true` drops
// the preset's). Done on the raw document, before validation, and remembers where each merged mapping
// came from so a validation error still points into the user's file.
import type { TargetPreset } from './presets/types.js';
import { PRESETS } from './presets/index.js';

export type MappingOrigin = { from: 'user'; index: number } | { from: 'preset'; preset: string; index: number };

export interface PresetMergeResult {
  target: Record<string, unknown>;
  /** For users / groups: where merged mapping i came from. */
  origins: { users: MappingOrigin[]; groups: MappingOrigin[] };
  problems: { path: (string | number)[]; message: string }[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else (arrays included) from `over` replaces `base`. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
  }
  return over;
}

/** SCIM attribute names are case-insensitive, so are mapping target paths when merging. */
const samePath = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.trim().toLowerCase() === b.trim().toLowerCase();

function mergeMappings(
  presetName: string,
  presetMappings: readonly Record<string, unknown>[],
  userMappings: unknown,
  basePath: (string | number)[],
  problems: PresetMergeResult['problems'],
): { mappings: unknown; origins: MappingOrigin[] } {
  const merged: { mapping: unknown; origin: MappingOrigin }[] = presetMappings.map((m, index) => ({
    mapping: m,
    origin: { from: 'preset', preset: presetName, index },
  }));
  // Not a list: leave it to the schema to say so.
  if (userMappings !== undefined && !Array.isArray(userMappings)) return { mappings: userMappings, origins: [] };
  (userMappings ?? []).forEach((m: unknown, index: number) => {
    const target = isPlainObject(m) ? m.target : undefined;
    const at = merged.findIndex((e) => e.origin.from === 'preset' && isPlainObject(e.mapping) && samePath(e.mapping.target, target));
    if (isPlainObject(m) && m.remove === true) {
      if (at === -1) {
        problems.push({ path: [...basePath, index, 'target'], message: `preset ${presetName} has no mapping for "${String(target)}" to remove` });
      } else {
        merged.splice(at, 1);
      }
      return;
    }
    const entry = { mapping: m, origin: { from: 'user', index } as MappingOrigin };
    if (at === -1) merged.push(entry);
    else merged[at] = entry;
  });
  return { mappings: merged.map((e) => e.mapping), origins: merged.map((e) => e.origin) };
}

/** `targetPath` is the target's path in the document, e.g. ['targets', 0]. */
export function applyPreset(raw: Record<string, unknown>, targetPath: (string | number)[]): PresetMergeResult {
  const problems: PresetMergeResult['problems'] = [];
  const identity = (section: unknown): MappingOrigin[] =>
    isPlainObject(section) && Array.isArray(section.mappings) ? section.mappings.map((_m, index) => ({ from: 'user', index })) : [];
  const name = raw.preset;
  if (name === undefined) {
    for (const kind of ['users', 'groups'] as const) {
      const section = raw[kind];
      if (!isPlainObject(section) || !Array.isArray(section.mappings)) continue;
      section.mappings.forEach((m: unknown, index: number) => {
        if (isPlainObject(m) && m.remove === true) {
          problems.push({ path: [...targetPath, kind, 'mappings', index, 'remove'], message: 'remove: true only drops a mapping of the preset, and this target has no preset' });
        }
      });
    }
    return { target: raw, origins: { users: identity(raw.users), groups: identity(raw.groups) }, problems };
  }
  const preset: TargetPreset | undefined = typeof name === 'string' ? PRESETS.get(name.trim().toLowerCase()) : undefined;
  if (!preset) {
    problems.push({ path: [...targetPath, 'preset'], message: `expected one of ${[...PRESETS.keys()].join(', ')}, found ${JSON.stringify(name)}` });
    return { target: raw, origins: { users: identity(raw.users), groups: identity(raw.groups) }, problems };
  }
  const { users: presetUsers, groups: presetGroups, name: _n, description: _d, ...presetRest } = preset;
  const target = deepMerge(presetRest, raw) as Record<string, unknown>;
  const origins: PresetMergeResult['origins'] = { users: [], groups: [] };
  for (const kind of ['users', 'groups'] as const) {
    const presetSection = kind === 'users' ? presetUsers : presetGroups;
    const userSection = raw[kind];
    if (userSection !== undefined && !isPlainObject(userSection)) continue; // the schema reports it
    const { mappings: presetMappings = [], ...presetFields } = presetSection ?? {};
    const section = deepMerge(presetFields, userSection ?? {}) as Record<string, unknown>;
    const merged = mergeMappings(preset.name, presetMappings as Record<string, unknown>[], userSection?.mappings, [...targetPath, kind, 'mappings'], problems);
    section.mappings = merged.mappings;
    origins[kind] = merged.origins;
    target[kind] = section;
  }
  return { target, origins, problems };
}
