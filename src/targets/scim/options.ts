// Connection options of a SCIM 2.0 target, as written in the config file (the config schema embeds them).
// Secrets arrive already `${ENV}`-interpolated by the config loader; the `…File` variants are read at use
// time (not here) so a rotated secret file takes effect without a restart.
// The connection part (URL, auth, TLS, pacing, retry) is shared with the REST connector.
import { z } from 'zod';

const nonEmpty = z.string().min(1);

const bearerAuthSchema = z
  .object({
    type: z.literal('bearer'),
    token: nonEmpty.optional(),
    tokenFile: nonEmpty.optional(),
    /** Tried when the primary token gets a 401, then preferred: tokens rotate without downtime. */
    secondaryToken: nonEmpty.optional(),
    secondaryTokenFile: nonEmpty.optional(),
  })
  .refine((a) => (a.token === undefined) !== (a.tokenFile === undefined), {
    message: 'give exactly one of token or tokenFile',
    path: ['token'],
  })
  .refine((a) => !(a.secondaryToken !== undefined && a.secondaryTokenFile !== undefined), {
    message: 'give at most one of secondaryToken or secondaryTokenFile',
    path: ['secondaryToken'],
  });

const oauth2AuthSchema = z
  .object({
    type: z.literal('oauth2'),
    tokenUrl: z.url({ protocol: /^https?$/ }),
    clientId: nonEmpty,
    clientSecret: nonEmpty.optional(),
    clientSecretFile: nonEmpty.optional(),
    scope: nonEmpty.optional(),
    /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
    clientAuth: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  })
  .refine((a) => (a.clientSecret === undefined) !== (a.clientSecretFile === undefined), {
    message: 'give exactly one of clientSecret or clientSecretFile',
    path: ['clientSecret'],
  });

const basicAuthSchema = z
  .object({
    type: z.literal('basic'),
    username: nonEmpty,
    password: z.string().optional(),
    passwordFile: nonEmpty.optional(),
  })
  .refine((a) => (a.password === undefined) !== (a.passwordFile === undefined), {
    message: 'give exactly one of password or passwordFile',
    path: ['password'],
  });

const noAuthSchema = z.object({ type: z.literal('none') });

export const targetAuthSchema = z.discriminatedUnion('type', [
  bearerAuthSchema,
  oauth2AuthSchema,
  basicAuthSchema,
  noAuthSchema,
]);
export type TargetAuthOptions = z.infer<typeof targetAuthSchema>;

export const retryOptionsSchema = z.object({
  /** Attempts per request, the first included. */
  maxAttempts: z.int().min(1).max(20).default(5),
  baseDelayMs: z.int().min(0).default(500),
  maxDelayMs: z.int().min(0).default(30_000),
});
export type RetryOptions = z.infer<typeof retryOptionsSchema>;

/** What every HTTP target needs to be reached: shared by the SCIM and REST connectors. */
export const targetConnectionShape = {
  baseUrl: z.url({ protocol: /^https?$/ }),
  auth: targetAuthSchema.prefault({ type: 'none' }),
  /** PEM file with extra CA certificates (an on-prem app with an internal CA). */
  caFile: nonEmpty.optional(),
  /** HTTP(S) proxy URL for requests to this target. */
  proxy: z.url({ protocol: /^https?$/ }).optional(),
  timeoutMs: z.int().min(1).default(30_000),
  /** At most this many requests in flight to this target. */
  concurrency: z.int().min(1).max(256).default(8),
  /** Budget of requests per second across the whole target (unset: no budget beyond concurrency). */
  requestsPerSecond: z.number().positive().optional(),
  retry: retryOptionsSchema.prefault({}),
  /** Extra non-secret headers sent with every request. */
  headers: z.record(z.string(), z.string()).optional(),
} as const;

export const targetConnectionSchema = z.object(targetConnectionShape);
export type TargetConnectionOptions = z.infer<typeof targetConnectionSchema>;

/** Values that replace what /ServiceProviderConfig says, for servers that misreport. */
export const scimDiscoveryOverridesSchema = z.object({
  patch: z.boolean().optional(),
  bulk: z.boolean().optional(),
  maxOperations: z.int().min(1).optional(),
  maxPayloadSize: z.int().min(1).optional(),
  filter: z.boolean().optional(),
  maxResults: z.int().min(1).optional(),
  etag: z.boolean().optional(),
  /** Whether GET /Users and /Groups without a filter page through everything (initial matching). */
  list: z.boolean().optional(),
});
export type ScimDiscoveryOverrides = z.infer<typeof scimDiscoveryOverridesSchema>;

export const scimTargetOptionsSchema = z.object({
  ...targetConnectionShape,
  /**
   * `rfc7644`: lower-case ops, typed booleans, `schemas` lists every extension used.
   * `entraLegacy`: what servers built against Entra's older client expect: capitalised ops (`Replace`),
   * booleans as `"True"`/`"False"` strings in PATCH, member removal as a value array.
   */
  compatibility: z.enum(['rfc7644', 'entraLegacy']).default('rfc7644'),
  discovery: scimDiscoveryOverridesSchema.prefault({}),
  /** Members per PATCH when adding; removes are one filtered op per member, this many per request. */
  membershipChunkSize: z.int().min(1).max(1000).default(100),
  /** Use /Bulk when the server advertises it. */
  bulk: z.boolean().default(true),
  /** Page size for list() (startIndex/count paging); capped by the server's filter.maxResults. */
  pageSize: z.int().min(1).max(1000).default(100),
  /** What the engine does when an update gets 404: create the object again, or forget the link. */
  notFoundOnUpdate: z.enum(['recreate', 'unlink']).default('recreate'),
  /** Resource endpoints relative to baseUrl. */
  usersPath: nonEmpty.default('/Users'),
  groupsPath: nonEmpty.default('/Groups'),
});

/** Parsed (defaults applied) SCIM target options. */
export type ScimTargetOptions = z.infer<typeof scimTargetOptionsSchema>;
/** SCIM target options as written in a config file (defaults optional). */
export type ScimTargetOptionsInput = z.input<typeof scimTargetOptionsSchema>;
