// The presets a target can name with `preset:`.
import { document360Preset } from './document360.js';
import { docuwarePreset } from './docuware.js';
import { scimPreset } from './scim.js';
import type { TargetPreset } from './types.js';

export const PRESETS: ReadonlyMap<string, TargetPreset> = new Map(
  [scimPreset, docuwarePreset, document360Preset].map((p) => [p.name, p]),
);

export type { TargetPreset } from './types.js';
