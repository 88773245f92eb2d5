// The configuration file's schema: what a user writes (after `${ENV}` interpolation and preset merging)
// and the typed `Config` the rest of the program reads. Every default lives here, so the file a user
// writes can stay short and `validate` can show what the defaults became.
import { z } from 'zod';
import cron from 'node-cron';
import { sourceOptionsSchema } from '../source/options.js';
import { scimTargetOptionsSchema } from '../targets/scim/options.js';
import { restTargetOptionsSchema } from '../targets/rest/options.js';
import {
  INTEGER_OPERATORS,
  SCOPING_OPERATORS,
  UNARY_OPERATORS,
  normalizeScopingOperator,
  scopingRegex,
  type ScopingOperator,
} from '../engine/scope.js';
import { TARGET_TYPES } from '../engine/values.js';

const nonEmpty = z.string().trim().min(1);

/** `90s`, `40m`, `6h`, `1d`, `2w` or a number of milliseconds → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  if (!m) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!.toLowerCase() as 'ms'];
  return Math.round(Number(m[1]) * factor);
}

const durationSchema = z
  .union([z.number().int().min(0), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "90s", "40m", "6h" or "1d", found "${value}"` });
      return z.NEVER;
    }
    return ms;
  });

const mappingValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** One attribute mapping, as in the Entra portal's "Edit attribute" blade. */
export const attributeMappingSchema = z
  .object({
    /** Target attribute path: `userName`, `name.familyName`, `emails[type eq "work"].value`, an extension URN. */
    target: nonEmpty,
    /** Direct mapping: a source attribute (`objectId` is the Entra object id). */
    source: nonEmpty.optional(),
    /** Constant mapping. */
    constant: mappingValueSchema.optional(),
    /** Expression mapping in Entra's language, compiled when the configuration loads. */
    expression: z.string().trim().min(1).max(10_000).optional(),
    /** "Default value if null": used only when the object is created. */
    default: mappingValueSchema.optional(),
    /** "Apply this mapping": always, or only during object creation. */
    apply: z.enum(['always', 'onCreate']).default('always'),
    /** "Match objects using this attribute" with its precedence: 1 is tried first. */
    matchPriority: z.int().min(1).optional(),
    /** Target attribute type; values are converted to it (a `"True"` from Switch becomes `true`). */
    type: z.enum(TARGET_TYPES).optional(),
    /** Only in a target that uses a preset: drop the preset's mapping with the same target path. */
    remove: z.literal(true).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.remove) {
      const extra = (['source', 'constant', 'expression', 'default', 'matchPriority', 'type'] as const).filter((k) => m[k] !== undefined);
      if (extra.length) ctx.addIssue({ code: 'custom', path: [extra[0]!], message: `a mapping with remove: true takes only target, not ${extra.join(', ')}` });
      return;
    }
    const kinds = (['source', 'constant', 'expression'] as const).filter((k) => m[k] !== undefined);
    if (kinds.length > 1) {
      ctx.addIssue({ code: 'custom', path: [kinds[1]!], message: `give one of source, constant or expression, not ${kinds.join(' and ')}` });
    } else if (kinds.length === 0 && m.default === undefined) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'expected one of source, constant or expression (or a default alone)' });
    }
  });
export type AttributeMappingConfig = z.infer<typeof attributeMappingSchema>;

export const scopingClauseSchema = z
  .object({
    attribute: nonEmpty,
    operator: z.string().transform((text, ctx): ScopingOperator => {
      const op = normalizeScopingOperator(text);
      if (!op) {
        ctx.addIssue({ code: 'custom', message: `expected one of ${SCOPING_OPERATORS.join(', ')}, found "${text}"` });
        return z.NEVER;
      }
      return op;
    }),
    value: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (UNARY_OPERATORS.has(c.operator)) {
      if (c.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.operator} takes no value` });
      return;
    }
    if (c.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.operator} needs a value` });
      return;
    }
    if (INTEGER_OPERATORS.has(c.operator) && !/^[+-]?\d+$/.test(c.value.trim())) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.operator} compares integers: expected an integer, found "${c.value}"` });
    }
    if (c.operator === 'REGEX MATCH' || c.operator === 'NOT REGEX MATCH') {
      try {
        scopingRegex(c.value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `not a valid regular expression: ${(err as Error).message}` });
      }
    }
  });

export const scopingFilterSchema = z
  .object({
    title: z.string().optional(),
    clauses: z.array(scopingClauseSchema).min(1),
  })
  .strict();

const USER_ACTIONS = ['create', 'update', 'disable', 'delete'] as const;
const GROUP_ACTIONS = ['create', 'update', 'delete'] as const;

const uniqueList = <T extends string>(values: readonly [T, ...T[]]) =>
  z.array(z.enum(values)).refine((list) => new Set(list).size === list.length, { message: 'each action at most once' });

const objectMappingShape = {
  /** Object mapping switched on (Entra: users always, groups optional). */
  enabled: z.boolean().default(true),
  mappings: z.array(attributeMappingSchema).default([]),
  scopingFilters: z.array(scopingFilterSchema).default([]),
  /** Matching order by target path; overrides the mappings' matchPriority when given. */
  matching: z.array(nonEmpty).min(1).optional(),
};

export const usersSectionSchema = z
  .object({
    ...objectMappingShape,
    /** Target object actions. `disable` covers unassignment, leaving scope, soft delete and blocked sign-in. */
    actions: uniqueList(USER_ACTIONS).default(['create', 'update', 'disable']),
  })
  .strict();

export const groupsSectionSchema = z
  .object({
    ...objectMappingShape,
    actions: uniqueList(GROUP_ACTIONS).default(['create', 'update']),
    /** `exact`: the target group gets exactly Entra's members; `additive`: members we did not add are never removed. */
    membership: z.enum(['exact', 'additive']).default('exact'),
    /** Look groups up by this target attribute the first time, then by id (DocuWare: `displayName`). Shorthand for `matching: [path]`. */
    matchBy: nonEmpty.optional(),
    /** Members of nested groups: provision them as nested group members, or leave them out. */
    nestedGroups: z.enum(['members', 'ignore']).default('ignore'),
  })
  .strict();

export const deleteThresholdSchema = z
  .object({
    /** Disables plus deletes per cycle above which they are staged for approval. */
    count: z.int().min(0).optional(),
    /** Same, as a percentage of the target's linked objects. */
    percent: z.number().min(0).max(100).optional(),
  })
  .strict();

export const failedObjectRetrySchema = z
  .object({
    /** Delays after the 1st, 2nd, 3rd … failure (Entra: 6h, 12h, 24h). */
    after: z.array(durationSchema).min(1).default([21_600_000, 43_200_000, 86_400_000]),
    /** Delay after every later failure (Entra: daily). */
    thenEvery: durationSchema.default(86_400_000),
    /** Stop retrying an object after this long (Entra: 28 days). */
    giveUpAfter: durationSchema.default(28 * 86_400_000),
  })
  .strict();

export const quarantineSchema = z
  .object({
    /** Failed share of a cycle's object operations above which the target is quarantined. */
    failureRatio: z.number().gt(0).max(1).default(0.4),
    /** Ratio ignored below this many failures in a cycle (a handful of bad objects is not a broken target). */
    minFailures: z.int().min(1).default(10),
    /** Longest wait between cycles while quarantined (Entra slows to daily). */
    maxBackoff: durationSchema.default(86_400_000),
  })
  .strict();

/** Everything about a target that is not how to reach it. */
const targetEngineShape = {
  name: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", starting with a letter or digit (at most 64)'),
  preset: nonEmpty.optional(),
  users: usersSectionSchema.prefault({}),
  groups: groupsSectionSchema.prefault({}),
  deleteThreshold: deleteThresholdSchema.default({ count: 500 }),
  /** Entra's SkipOutOfScopeDeletions: users who are unassigned or leave a scoping filter are not disabled. */
  skipOutOfScopeDeletions: z.boolean().default(false),
  /** What a hard delete in Entra does: `delete` (only with the delete action) or `disable`. Default: delete when the action is on. */
  hardDeleteAction: z.enum(['delete', 'disable']).optional(),
  /**
   * When a mapped value becomes empty in Entra, remove it on the target. Entra never sends nulls and leaves the
   * old value; set false for that behaviour (or for targets that reject removals).
   */
  clearEmptiedValues: z.boolean().default(true),
  /** The target attribute that enable/disable sets (SCIM: `active`). */
  activeAttribute: nonEmpty.default('active'),
  failedObjectRetry: failedObjectRetrySchema.prefault({}),
  quarantine: quarantineSchema.prefault({}),
  /** Plan and log, never write. */
  dryRun: z.boolean().default(false),
};

function checkTarget(t: { users: { actions: string[] }; hardDeleteAction?: 'delete' | 'disable' | undefined }, ctx: z.RefinementCtx): void {
  if (t.hardDeleteAction === 'delete' && !t.users.actions.includes('delete')) {
    ctx.addIssue({ code: 'custom', path: ['hardDeleteAction'], message: 'hardDeleteAction "delete" needs "delete" in users.actions' });
  }
}

export const scimTargetSchema = scimTargetOptionsSchema
  .safeExtend({ type: z.literal('scim'), ...targetEngineShape })
  .strict()
  .superRefine(checkTarget);

export const restTargetSchema = restTargetOptionsSchema
  .safeExtend({ type: z.literal('rest'), ...targetEngineShape })
  .strict()
  .superRefine(checkTarget);

export const targetSchema = z.discriminatedUnion('type', [scimTargetSchema, restTargetSchema]);

export const configSchema = z
  .object({
    source: sourceOptionsSchema,
    state: z.object({ path: nonEmpty.default('./entra-sync.db') }).strict().prefault({}),
    schedule: z
      .object({
        /** Cron expression for cycles (Entra runs about every 40 minutes). */
        cron: z
          .string()
          .trim()
          .default('*/40 * * * *')
          .refine((expr) => cron.validate(expr), { message: 'not a valid cron expression (5 or 6 fields, e.g. "*/40 * * * *")' }),
        /** Run a cycle as soon as the daemon starts. */
        runOnStart: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /**
     * The daemon's HTTP listener (`entra-sync run` only): /healthz, /readyz, /metrics and the admin API.
     * Off unless configured. The admin API needs a token: adminTokenFile (a file holding it, re-read on
     * change) or adminToken (from ${ENV}); without one, /admin/* answers 403.
     */
    http: z
      .object({
        host: nonEmpty.default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9400),
        adminTokenFile: nonEmpty.optional(),
        adminToken: nonEmpty.optional(),
        /** /readyz answers 503 once a target's last successful cycle is older than this many schedule intervals. */
        readyMaxIntervals: z.number().int().min(1).default(3),
      })
      .strict()
      .refine((h) => !(h.adminTokenFile && h.adminToken), { message: 'give adminTokenFile or adminToken, not both' })
      .optional(),
    /** Log level (trace … fatal, silent); LOG_LEVEL in the environment overrides it. */
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .strict()
      .prefault({}),
    /** What `DefaultDomain()` returns in expressions (the tenant's default verified domain). */
    defaultDomain: nonEmpty.optional(),
    targets: z.array(targetSchema).min(1, 'expected at least one target'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.targets.forEach((t, i) => {
      const first = seen.get(t.name.toLowerCase());
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `target name "${t.name}" is already used by targets[${first}]` });
      } else {
        seen.set(t.name.toLowerCase(), i);
      }
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type ScimTargetConfig = z.infer<typeof scimTargetSchema>;
export type RestTargetConfig = z.infer<typeof restTargetSchema>;
export type UsersSectionConfig = z.infer<typeof usersSectionSchema>;
export type GroupsSectionConfig = z.infer<typeof groupsSectionSchema>;
export type ScopingFilterConfig = z.infer<typeof scopingFilterSchema>;
