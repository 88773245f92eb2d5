// The `source:` section of the configuration: which Entra tenant and enterprise app to read, how to
// authenticate, which cloud, and how to reach it (proxy, CA, timeouts).
// Inline secrets arrive here already `${ENV}`-interpolated by the config loader; the `…File` variants are
// paths read at use time, so a rotated secret or federated token is picked up without a restart.
import { z } from 'zod';

const nonEmpty = z.string().trim().min(1);

/** A PEM certificate credential: the private key and the certificate, each inline or as a file. */
export const certificateCredentialSchema = z
  .object({
    privateKey: nonEmpty.optional(),
    privateKeyFile: nonEmpty.optional(),
    /** Passphrase of an encrypted private key. */
    privateKeyPassphrase: z.string().optional(),
    certificate: nonEmpty.optional(),
    certificateFile: nonEmpty.optional(),
    /** Send the certificate chain (x5c header) for subject-name/issuer authentication. */
    sendX5c: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.privateKey === undefined) === (c.privateKeyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'give exactly one of privateKey or privateKeyFile' });
    }
    if ((c.certificate === undefined) === (c.certificateFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['certificate'], message: 'give exactly one of certificate or certificateFile' });
    }
  });

export const CLOUDS = ['global', 'usgov', 'china'] as const;
export type CloudName = (typeof CLOUDS)[number];

export const sourceOptionsSchema = z
  .object({
    /** Tenant id (GUID) or a verified domain such as contoso.onmicrosoft.com. Never `common`/`organizations`. */
    tenantId: nonEmpty.refine((t) => !['common', 'organizations', 'consumers'].includes(t.toLowerCase()), {
      message: 'app-only tokens need a specific tenant, not common/organizations/consumers',
    }),
    /** The app registration's application (client) id. */
    clientId: nonEmpty,
    clientSecret: nonEmpty.optional(),
    clientSecretFile: nonEmpty.optional(),
    certificate: certificateCredentialSchema.optional(),
    /** Workload identity federation: a file holding the projected service-account token (re-read on every token request). */
    federatedTokenFile: nonEmpty.optional(),
    /** Object id of the enterprise app's service principal whose assignments define scope. */
    servicePrincipalId: nonEmpty,
    /** `assigned`: only users/groups assigned to the app (Entra's default); `all`: every user in the tenant. */
    scope: z.enum(['assigned', 'all']).default('assigned'),
    /** Also bring members of nested groups of an assigned group into scope (Entra itself reads direct members only). */
    flattenNestedGroups: z.boolean().default(false),
    cloud: z.enum(CLOUDS).default('global'),
    /** Override the login host, e.g. https://login.example.test:8443 (no tenant). Disables instance discovery. */
    authorityHost: z.url({ protocol: /^https$/ }).optional(),
    /** Override the Graph root, e.g. https://graph.example.test:9443 (no version). */
    graphBaseUrl: z.url({ protocol: /^https$/ }).optional(),
    /** Outbound HTTP(S) proxy URL; when absent HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment apply. */
    proxy: z.url({ protocol: /^https?$/ }).optional(),
    /** Extra PEM CA bundle trusted in addition to the system roots (TLS-inspecting proxies, test simulators). */
    caFile: nonEmpty.optional(),
    /** Timeout of one HTTP request (token or Graph), in milliseconds. */
    timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
    /** `$top` for paged non-delta reads (assignments); delta pages are sized by Graph. */
    pageSize: z.number().int().min(1).max(999).default(999),
    /** Extra user attributes to `$select` beyond those the mappings and scoping filters reference. */
    select: z.array(nonEmpty).default([]),
  })
  .strict()
  .superRefine((o, ctx) => {
    const given = (['clientSecret', 'clientSecretFile', 'certificate', 'federatedTokenFile'] as const).filter(
      (k) => o[k] !== undefined,
    );
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: given.length ? [given[1] ?? given[0]!] : ['clientSecret'],
        message:
          given.length === 0
            ? 'give one credential: clientSecret, clientSecretFile, certificate or federatedTokenFile'
            : `give only one credential, not ${given.join(' and ')}`,
      });
    }
  });

export type SourceOptions = z.infer<typeof sourceOptionsSchema>;
/** The shape a user writes (defaults not yet applied). */
export type SourceOptionsInput = z.input<typeof sourceOptionsSchema>;
export type CertificateCredential = z.infer<typeof certificateCredentialSchema>;
