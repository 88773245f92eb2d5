// Credentials for a target: what goes into the Authorization header, and what to do when the target says 401.
// - bearer: the primary token; on 401 the secondary token is tried and, if it works, preferred from then on,
//   so a vendor-side token rotation (Document360's guidance) causes no downtime. Token files are re-read on 401.
// - oauth2 client credentials: token cached until shortly before expiry, fetched again on 401 (DocuWare).
// - basic, none.
// Secrets stay inside this module: nothing here puts a secret into an error message or a log line.
import { readFile } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { TargetError } from './connector.js';
import type { TargetAuthOptions } from './scim/options.js';

export interface TargetAuthenticator {
  /** The Authorization header value for the next request, or undefined when the target needs none. */
  authorization(): Promise<string | undefined>;
  /**
   * The target rejected `rejected` (the header value that was sent). Returns true when a different credential is
   * now available and the request is worth one more try; false when there is nothing else to try.
   */
  rejected(rejected: string | undefined): Promise<boolean>;
  /** One line for a connection report, without secrets: `bearer (secondary token in use)`. */
  describe(): string;
}

interface AuthContext {
  target: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** Injected clock for token expiry (tests). */
  now?: () => number;
}

async function readSecretFile(file: string, target: string, what: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    // The path is configuration, not a secret; the content never appears.
    throw new TargetError({
      kind: 'unauthorized',
      target,
      message: `cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      cause: err,
    });
  }
}

/** A secret given inline or as a file; the file is read lazily and again when `reload()` is called. */
class Secret {
  private cached: string | undefined;
  constructor(
    private readonly inline: string | undefined,
    private readonly file: string | undefined,
    private readonly target: string,
    private readonly what: string,
  ) {}

  get configured(): boolean {
    return this.inline !== undefined || this.file !== undefined;
  }

  async value(): Promise<string> {
    if (this.inline !== undefined) return this.inline;
    if (this.cached === undefined) this.cached = await readSecretFile(this.file!, this.target, this.what);
    return this.cached;
  }

  /** Re-read a file secret; true when its content changed (a rotation happened). */
  async reload(): Promise<boolean> {
    if (this.file === undefined) return false;
    const before = this.cached;
    this.cached = await readSecretFile(this.file, this.target, this.what);
    return before !== this.cached;
  }
}

class BearerAuth implements TargetAuthenticator {
  private readonly primary: Secret;
  private readonly secondary: Secret;
  private useSecondary = false;

  constructor(options: Extract<TargetAuthOptions, { type: 'bearer' }>, target: string) {
    this.primary = new Secret(options.token, options.tokenFile, target, 'token');
    this.secondary = new Secret(options.secondaryToken, options.secondaryTokenFile, target, 'secondary token');
  }

  async authorization(): Promise<string> {
    const secret = this.useSecondary ? this.secondary : this.primary;
    return `Bearer ${await secret.value()}`;
  }

  async rejected(rejected: string | undefined): Promise<boolean> {
    // Another request already switched credentials while this one was in flight.
    if (rejected !== (await this.authorization())) return true;
    const rejectedSecondary = this.useSecondary;
    const inUse = rejectedSecondary ? this.secondary : this.primary;
    if (await inUse.reload()) return true;
    const other = rejectedSecondary ? this.primary : this.secondary;
    if (!other.configured) return false;
    await other.reload();
    // Move to the token that was not rejected, never toggle: several requests rejected at once all land
    // here, and toggling would send half of them back to the revoked token.
    this.useSecondary = !rejectedSecondary;
    return (await this.authorization()) !== rejected;
  }

  describe(): string {
    if (!this.secondary.configured) return 'bearer token';
    return `bearer token (${this.useSecondary ? 'secondary' : 'primary'} token in use, the other one on standby)`;
  }
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

class OAuth2ClientCredentials implements TargetAuthenticator {
  private readonly secret: Secret;
  private token: CachedToken | undefined;
  private inFlight: Promise<CachedToken> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly options: Extract<TargetAuthOptions, { type: 'oauth2' }>,
    private readonly context: AuthContext,
  ) {
    this.secret = new Secret(options.clientSecret, options.clientSecretFile, context.target, 'client secret');
    this.now = context.now ?? Date.now;
  }

  async authorization(): Promise<string> {
    if (this.token && this.token.expiresAt > this.now()) return this.token.header;
    return (await this.fetchToken()).header;
  }

  async rejected(rejected: string | undefined): Promise<boolean> {
    if (this.token && this.token.header !== rejected && this.token.expiresAt > this.now()) return true;
    this.token = undefined;
    await this.secret.reload();
    const fresh = await this.fetchToken();
    return fresh.header !== rejected;
  }

  describe(): string {
    return `OAuth2 client credentials (${this.options.clientAuth}) from ${new URL(this.options.tokenUrl).host}`;
  }

  /** One token request at a time: concurrent callers share it. */
  private fetchToken(): Promise<CachedToken> {
    this.inFlight ??= this.requestToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async requestToken(): Promise<CachedToken> {
    const { target } = this.context;
    const secret = await this.secret.value();
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.options.scope) form.set('scope', this.options.scope);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.options.clientAuth === 'client_secret_basic') {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
      const pair = `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(secret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else {
      form.set('client_id', this.options.clientId);
      form.set('client_secret', secret);
    }
    const where = `POST ${new URL(this.options.tokenUrl).pathname}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.options.tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        dispatcher: this.context.dispatcher,
        headersTimeout: this.context.timeoutMs,
        bodyTimeout: this.context.timeoutMs,
      });
    } catch (err) {
      throw new TargetError({
        kind: 'transient',
        target,
        request: where,
        message: `token endpoint unreachable: ${(err as Error).message}`,
        cause: err,
      });
    }
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      const kind = response.statusCode >= 500 || response.statusCode === 429 ? 'transient' : 'unauthorized';
      // OAuth errors (`invalid_client`) carry no secret; the raw body might echo the request, so only the code goes out.
      let code = '';
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        if (typeof parsed.error === 'string') code = `: ${parsed.error}`;
      } catch {
        // not JSON: the status says enough
      }
      throw new TargetError({
        kind,
        target,
        status: response.statusCode,
        request: where,
        message: `token endpoint refused the client credentials (HTTP ${response.statusCode}${code})`,
      });
    }
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = {};
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new TargetError({ kind: 'unauthorized', target, request: where, message: 'token endpoint answered without an access_token' });
    }
    const lifetimeSeconds = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600) || 3600;
    // Renew a little early so a token does not expire between our check and the target's.
    const margin = Math.min(60, lifetimeSeconds / 10);
    this.token = {
      header: `Bearer ${body.access_token}`,
      expiresAt: this.now() + (lifetimeSeconds - margin) * 1000,
    };
    return this.token;
  }
}

class BasicAuth implements TargetAuthenticator {
  private readonly password: Secret;
  constructor(private readonly options: Extract<TargetAuthOptions, { type: 'basic' }>, target: string) {
    this.password = new Secret(options.password, options.passwordFile, target, 'password');
  }
  async authorization(): Promise<string> {
    return `Basic ${Buffer.from(`${this.options.username}:${await this.password.value()}`).toString('base64')}`;
  }
  async rejected(): Promise<boolean> {
    return this.password.reload();
  }
  describe(): string {
    return `basic (user ${this.options.username})`;
  }
}

const noAuth: TargetAuthenticator = {
  authorization: () => Promise.resolve(undefined),
  rejected: () => Promise.resolve(false),
  describe: () => 'no authentication',
};

export function createAuthenticator(options: TargetAuthOptions, context: AuthContext): TargetAuthenticator {
  switch (options.type) {
    case 'bearer':
      return new BearerAuth(options, context.target);
    case 'oauth2':
      return new OAuth2ClientCredentials(options, context);
    case 'basic':
      return new BasicAuth(options, context.target);
    case 'none':
      return noAuth;
  }
}
