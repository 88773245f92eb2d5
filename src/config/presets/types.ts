// The shape of a preset: a partial target, written exactly as a user would write it in the config file.
// The loader merges the user's target over it (see merge.ts), then validates the result.
import type { z } from 'zod';
import type { attributeMappingSchema, deleteThresholdSchema, groupsSectionSchema, usersSectionSchema } from '../schema.js';

export type MappingInput = z.input<typeof attributeMappingSchema>;

export interface TargetPreset {
  name: string;
  /** One line for `validate` and the docs. */
  description: string;
  type: 'scim' | 'rest';
  users?: Partial<Omit<z.input<typeof usersSectionSchema>, 'mappings'>> & { mappings?: MappingInput[] };
  groups?: Partial<Omit<z.input<typeof groupsSectionSchema>, 'mappings'>> & { mappings?: MappingInput[] };
  deleteThreshold?: z.input<typeof deleteThresholdSchema>;
  skipOutOfScopeDeletions?: boolean;
  hardDeleteAction?: 'delete' | 'disable';
}
