// Who may call the simulator: static bearer tokens (two, so rotation can be tested), OAuth2 client
// credentials tokens issued at the token endpoint with a lifetime, and HTTP basic.

import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  tokenLifetimeSeconds?: number;
  scope?: string;
}

export interface AuthSettings {
  tokens: string[];
  oauth?: OAuthSettings;
  basic?: { username: string; password: string };
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are base64-joined. */
function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export class AuthGate {
  /** access token → expiry (epoch ms). Date.now() so fake timers can move time. */
  private readonly issued = new Map<string, number>();

  constructor(private readonly settings: AuthSettings) {}

  schemes(): { type: string; name: string; description: string }[] {
    const out: { type: string; name: string; description: string }[] = [];
    if (this.settings.tokens.length > 0) out.push({ type: 'oauthbearertoken', name: 'Bearer token', description: 'Static bearer token in the Authorization header' });
    if (this.settings.oauth) out.push({ type: 'oauth2', name: 'OAuth2 client credentials', description: 'Access token from the token endpoint (client_credentials grant)' });
    if (this.settings.basic) out.push({ type: 'httpbasic', name: 'HTTP Basic', description: 'Username and password' });
    return out;
  }

  /** Refuse every credential, as a target whose token was revoked does (tests: quarantine). */
  refuseAll = false;

  check(authorization: string | undefined): boolean {
    if (!authorization || this.refuseAll) return false;
    const space = authorization.indexOf(' ');
    if (space < 0) return false;
    const scheme = authorization.slice(0, space).toLowerCase();
    const credential = authorization.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (this.settings.tokens.some((t) => same(t, credential))) return true;
      const expiry = this.issued.get(credential);
      if (expiry === undefined) return false;
      if (Date.now() >= expiry) {
        this.issued.delete(credential);
        return false;
      }
      return true;
    }
    if (scheme === 'basic' && this.settings.basic) {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      return same(decoded.slice(0, colon), this.settings.basic.username) && same(decoded.slice(colon + 1), this.settings.basic.password);
    }
    return false;
  }

  expireAll(): void {
    this.issued.clear();
  }

  /** POST to the token endpoint: client_secret_basic or client_secret_post, grant_type=client_credentials. */
  issue(authorization: string | undefined, contentType: string | undefined, rawBody: string): TokenResponse {
    const oauth = this.settings.oauth;
    if (!oauth) return { status: 404, body: { error: 'not_found', error_description: 'this simulator has no OAuth2 token endpoint configured' } };
    const form = new URLSearchParams(contentType?.includes('application/json') ? jsonToForm(rawBody) : rawBody);
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        clientId = formDecode(decoded.slice(0, colon));
        clientSecret = formDecode(decoded.slice(colon + 1));
      }
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' } };
    }
    if (clientId === undefined || clientSecret === undefined || !same(clientId, oauth.clientId) || !same(clientSecret, oauth.clientSecret)) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' }, headers: { 'WWW-Authenticate': 'Basic realm="token"' } };
    }
    const scope = form.get('scope');
    if (oauth.scope !== undefined && scope !== null && scope !== '' && !scope.split(' ').includes(oauth.scope)) {
      return { status: 400, body: { error: 'invalid_scope', error_description: `scope must be ${oauth.scope}` } };
    }
    const lifetime = oauth.tokenLifetimeSeconds ?? 3600;
    const token = randomBytes(24).toString('base64url');
    this.issued.set(token, Date.now() + lifetime * 1000);
    const body: Record<string, unknown> = { access_token: token, token_type: 'Bearer', expires_in: lifetime };
    if (oauth.scope !== undefined) body.scope = oauth.scope;
    return { status: 200, body, headers: { 'Cache-Control': 'no-store' } };
  }
}

function jsonToForm(raw: string): Record<string, string> {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    return {};
  }
}
