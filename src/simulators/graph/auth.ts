// The identity-platform half of the simulator: the v2.0 token endpoint for the client-credentials grant
// (client secret, certificate assertion, federated assertion), the OpenID configuration and instance-discovery
// documents MSAL reads for a non-Microsoft authority, and the access tokens the Graph routes accept.
// Wire shapes follow graph.md §6.4 and graph-samples/50–55.
import { constants, createHmac, createPublicKey, randomUUID, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { certificateThumbprints } from '../tls.js';

export interface TokenEndpointConfig {
  /** https://host:port, no trailing slash. */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Object id of the daemon's own service principal (the `oid` of its tokens). */
  clientServicePrincipalId: string;
  tokenLifetimeSeconds: number;
}

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLOCK_SKEW_SECONDS = 300;

interface TrustedCertificate {
  publicKey: KeyObject;
}

/** Signs and checks the simulator's access tokens (HS256 JWTs: clients treat them as opaque). */
export class AccessTokens {
  /** Bumped to revoke every token issued so far (forced expiry). */
  generation = 0;

  constructor(
    private readonly key: Buffer,
    private readonly config: TokenEndpointConfig,
  ) {}

  issue(resource: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
    const header = { typ: 'JWT', alg: 'HS256', kid: 'entra-sync-simulator' };
    const payload = {
      aud: resource,
      iss: `https://sts.windows.net/${this.config.tenantId}/`,
      iat: nowSeconds,
      nbf: nowSeconds,
      exp: nowSeconds + this.config.tokenLifetimeSeconds,
      appid: this.config.clientId,
      idtyp: 'app',
      oid: this.config.clientServicePrincipalId,
      roles: ['User.Read.All', 'GroupMember.Read.All', 'Application.Read.All'],
      tid: this.config.tenantId,
      ver: '1.0',
      gen: this.generation,
    };
    const input = `${b64url(header)}.${b64url(payload)}`;
    return `${input}.${this.sign(input)}`;
  }

  /** `ok`, or why the token is refused. */
  check(token: string, nowSeconds = Math.floor(Date.now() / 1000)): 'ok' | 'expired' | 'invalid' {
    const parts = token.split('.');
    if (parts.length !== 3) return 'invalid';
    const [h, p, s] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(`${h}.${p}`));
    const given = Buffer.from(s);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    const payload = decodeJson(p) as { exp?: number; nbf?: number; gen?: number } | undefined;
    if (!payload || typeof payload.exp !== 'number') return 'invalid';
    if (payload.exp <= nowSeconds || (payload.nbf ?? 0) > nowSeconds + CLOCK_SKEW_SECONDS) return 'expired';
    if (payload.gen !== this.generation) return 'expired';
    return 'ok';
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export class IdentityPlatform {
  private readonly certificates = new Map<string, TrustedCertificate>();
  private readonly federatedChecks: ((jwt: string) => boolean)[] = [];

  constructor(
    readonly config: TokenEndpointConfig,
    readonly accessTokens: AccessTokens,
  ) {}

  get tokenEndpoint(): string {
    return `${this.config.authorityHost}/${this.config.tenantId}/oauth2/v2.0/token`;
  }

  trustCertificate(pem: string): void {
    const { sha1, sha256 } = certificateThumbprints(pem);
    const trusted = { publicKey: createPublicKey(pem) };
    this.certificates.set(`sha1:${sha1}`, trusted);
    this.certificates.set(`sha256:${sha256}`, trusted);
  }

  acceptFederatedAssertion(check: (jwt: string) => boolean): void {
    this.federatedChecks.push(check);
  }

  /** Is `tenant` (from a URL path) this tenant? Entra also accepts a verified domain; the simulator knows only its id. */
  isTenant(tenant: string): boolean {
    return tenant.toLowerCase() === this.config.tenantId.toLowerCase();
  }

  openIdConfiguration(): Record<string, unknown> {
    const base = `${this.config.authorityHost}/${this.config.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'entra-sync.simulator',
      msgraph_host: new URL(this.config.authorityHost).host,
    };
  }

  /** The instance-discovery answer for this host (graph-samples/54 shape, with the simulator as the only cloud). */
  instanceDiscovery(authorizationEndpoint: string | null): Record<string, unknown> {
    const host = new URL(this.config.authorityHost).host;
    let tenant = this.config.tenantId;
    if (authorizationEndpoint) {
      try {
        tenant = new URL(authorizationEndpoint).pathname.split('/').filter(Boolean)[0] ?? tenant;
      } catch {
        // keep the simulator's own tenant
      }
    }
    return {
      tenant_discovery_endpoint: `${this.config.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  /** Handle a form-encoded client-credentials token request for `tenant`. */
  token(tenant: string, form: URLSearchParams, correlationId: string): TokenResult {
    const fail = (status: number, error: string, code: number, description: string): TokenResult =>
      this.error(status, error, code, description, correlationId);
    if (!this.isTenant(tenant)) {
      return fail(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType ?? ''}'.`);
    }
    const clientId = form.get('client_id');
    if (!clientId) return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (clientId.toLowerCase() !== this.config.clientId.toLowerCase()) {
      return fail(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${this.config.tenantId}'.`);
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
    const resourceScopes = scopes.filter((s) => !['openid', 'profile', 'offline_access'].includes(s));
    if (resourceScopes.length !== 1 || !resourceScopes[0]!.endsWith('/.default')) {
      return fail(400, 'invalid_scope', 1002012, `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null && assertion !== null) {
      return fail(400, 'invalid_request', 7000219, "Only one of 'client_secret' or 'client_assertion' may be sent.");
    }
    if (secret !== null) {
      const expected = Buffer.from(this.config.clientSecret);
      const given = Buffer.from(secret);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        return fail(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.config.clientId}'.`);
      }
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== JWT_BEARER) {
        return fail(400, 'invalid_request', 7000216, `'client_assertion_type' must be '${JWT_BEARER}'.`);
      }
      const problem = this.checkAssertion(assertion);
      if (problem) return fail(401, 'invalid_client', problem.code, problem.message);
    } else {
      return fail(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const resource = resourceScopes[0]!.slice(0, -'/.default'.length);
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: this.config.tokenLifetimeSeconds,
        ext_expires_in: this.config.tokenLifetimeSeconds,
        access_token: this.accessTokens.issue(resource),
      },
    };
  }

  /** Undefined when the assertion is acceptable, else the AADSTS code and message Entra would give. */
  private checkAssertion(jwt: string): { code: number; message: string } | undefined {
    const parts = jwt.split('.');
    const header = parts.length === 3 ? (decodeJson(parts[0]!) as Record<string, unknown> | undefined) : undefined;
    const payload = parts.length === 3 ? (decodeJson(parts[1]!) as Record<string, unknown> | undefined) : undefined;
    if (!header || !payload) return { code: 50027, message: 'JWT token is invalid or malformed.' };
    const x5t256 = header['x5t#S256'];
    const x5t = header.x5t;
    if (typeof x5t256 !== 'string' && typeof x5t !== 'string') {
      // No certificate thumbprint: a federated credential (e.g. a Kubernetes service-account token).
      if (this.federatedChecks.some((check) => check(jwt))) return undefined;
      return { code: 70021, message: 'No matching federated identity record found for presented assertion.' };
    }
    const key = typeof x5t256 === 'string' ? `sha256:${Buffer.from(x5t256, 'base64url').toString('hex')}` : `sha1:${Buffer.from(x5t as string, 'base64url').toString('hex')}`;
    const trusted = this.certificates.get(key);
    if (!trusted) {
      return { code: 700027, message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${key.split(':')[1]!.toUpperCase()}']` };
    }
    const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2]!, 'base64url');
    let valid = false;
    try {
      if (header.alg === 'RS256') valid = verify('sha256', signingInput, trusted.publicKey, signature);
      else if (header.alg === 'PS256') {
        valid = verify(
          'sha256',
          signingInput,
          { key: trusted.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          signature,
        );
      }
    } catch {
      valid = false;
    }
    if (!valid) return { code: 700027, message: 'Client assertion failed signature validation.' };
    const audience = typeof payload.aud === 'string' ? payload.aud.split('?')[0] : undefined;
    if (audience !== this.tokenEndpoint) {
      return { code: 700212, message: `The audience claim in the client assertion is invalid: expected '${this.tokenEndpoint}'.` };
    }
    if (payload.iss !== this.config.clientId || payload.sub !== this.config.clientId) {
      return { code: 700023, message: "Client assertion 'iss' and 'sub' must both be the application's client id." };
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp < now - CLOCK_SKEW_SECONDS || (typeof payload.nbf === 'number' && payload.nbf > now + CLOCK_SKEW_SECONDS)) {
      return { code: 700024, message: 'Client assertion is not within its valid time range.' };
    }
    return undefined;
  }

  private error(status: number, error: string, code: number, description: string, correlationId: string): TokenResult {
    const traceId = randomUUID();
    const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    return {
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.config.authorityHost}/error?code=${code}`,
      },
    };
  }
}
