// `test-connection`: what Entra's "Test Connection" button does, for the source and for every target, before
// anything is provisioned. Graph: an app-only token from MSAL, then the enterprise app's service principal,
// its assignments and the users collection (credentials, permissions and servicePrincipalId in one go).
// Each target: the connector's own checks (token endpoint, ServiceProviderConfig, a filter probe that must
// answer an empty list), through a dry-run connector so nothing can be written. Every failure says why in
// words an admin can act on (token rejected, connection refused by which URL …) and no check prints a secret:
// the messages come from errors that never hold one, and URLs are shown without credentials or query.
// It needs no state file, so it works before the first sync and on a machine without the state volume.
import type { Config, TargetConfig } from '../config/schema.js';
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { createTokenSource } from '../source/auth.js';
import { resolveEndpoints } from '../source/clouds.js';
import { createGraphHttp, GraphRequestError } from '../source/graph.js';
import { createMsalNetworkClient, createSourceDispatcher } from '../source/network.js';
import type { SourceOptions } from '../source/options.js';
import { TargetError, type TargetConnector } from '../targets/connector.js';
import { createTargetConnector } from './connectors.js';

export interface ConnectionCheck {
  /** Short name of what was checked: `token`, `service principal`, `ServiceProviderConfig`, `auth` … */
  check: string;
  ok: boolean;
  /** What was found, or why it failed, for a person. Never a secret. */
  detail: string;
}

export interface ConnectionSection {
  kind: 'graph' | 'target';
  /** `Microsoft Graph` or the target's name. */
  name: string;
  /** One line describing what was tested (tenant and client, or type, preset and URL). */
  subject: string;
  checks: ConnectionCheck[];
}

export interface ConnectionTestReport {
  ok: boolean;
  sections: ConnectionSection[];
}

export interface ConnectionTestOptions {
  /** Only this target (Graph is still tested: every target depends on it). */
  target?: string | undefined;
  /** Leave Graph out (a target-only check, e.g. while the Entra side is not set up yet). */
  skipGraph?: boolean | undefined;
  /** Builds each target's connector; it is always asked for a dry-run one. Defaults to the product's factory. */
  createConnector?: ((target: TargetConfig, options: { dryRun: boolean }) => TargetConnector) | undefined;
  logger?: Logger | undefined;
}

/** Tests Graph and the selected targets, one section each, never stopping at the first failure. */
export async function testConnections(config: Config, options: ConnectionTestOptions = {}): Promise<ConnectionTestReport> {
  const targets = options.target === undefined ? config.targets : config.targets.filter((t) => t.name === options.target);
  if (targets.length === 0) {
    throw new EntraSyncError('TARGET_UNKNOWN', `no target named "${options.target}" in the configuration (targets: ${config.targets.map((t) => t.name).join(', ')})`, { objectId: options.target });
  }
  const sections: ConnectionSection[] = [];
  if (!options.skipGraph) sections.push(await testGraph(config.source, options.logger));
  const factory = options.createConnector ?? createTargetConnector;
  // Targets are independent: test them side by side.
  sections.push(...(await Promise.all(targets.map((t) => testTarget(t, factory)))));
  return { ok: sections.every((s) => s.checks.every((c) => c.ok)), sections };
}

// ── Microsoft Graph ───────────────────────────────────────────────────────────────────────────────────

function credentialKind(source: SourceOptions): string {
  if (source.clientSecret !== undefined || source.clientSecretFile !== undefined) return 'client secret';
  if (source.certificate !== undefined) return 'certificate';
  return 'federated token';
}

/** Token, service principal, assignments, users: the reads every sync needs. Stops at the first failure. */
export async function testGraph(source: SourceOptions, logger?: Logger): Promise<ConnectionSection> {
  const section: ConnectionSection = {
    kind: 'graph', name: 'Microsoft Graph',
    subject: `Microsoft Graph: tenant ${source.tenantId}, client ${source.clientId}, enterprise app ${source.servicePrincipalId}`,
    checks: [],
  };
  const pass = (check: string, detail: string) => section.checks.push({ check, ok: true, detail });
  const fail = (check: string, err: unknown) => section.checks.push({ check, ok: false, detail: graphReason(err, source) });
  let endpoints;
  let dispatcher;
  try {
    endpoints = resolveEndpoints(source.cloud, { authorityHost: source.authorityHost, graphBaseUrl: source.graphBaseUrl });
    dispatcher = createSourceDispatcher({ proxy: source.proxy, caFile: source.caFile, timeoutMs: source.timeoutMs });
  } catch (err) {
    fail('setup', err);
    return section;
  }
  try {
    const tokens = createTokenSource(source, { endpoints, networkClient: createMsalNetworkClient(dispatcher, source.timeoutMs), logger });
    // A probe, not a sync: one attempt per request, so a failure is reported now instead of after minutes of backoff.
    const http = createGraphHttp({ endpoints, tokens, dispatcher, timeoutMs: source.timeoutMs, logger, retry: { policy: { maxRetries: 0 } } });
    const authority = `${endpoints.authorityHost}/${source.tenantId}`;
    try {
      await tokens.getToken();
      pass('token', `app-only token issued by ${authority} (${credentialKind(source)})`);
    } catch (err) {
      fail('token', err);
      return section;
    }
    const sp = encodeURIComponent(source.servicePrincipalId);
    try {
      const body = await http.getJson(`/servicePrincipals/${sp}?$select=id,appId,displayName`);
      pass('service principal', `enterprise app "${String(body.displayName ?? '?')}" (object id ${String(body.id ?? source.servicePrincipalId)}, application id ${String(body.appId ?? '?')})`);
    } catch (err) {
      fail('service principal', err);
      return section;
    }
    try {
      const page = await http.getPage(`/servicePrincipals/${sp}/appRoleAssignedTo?$top=1`);
      pass('assignments', page.value.length ? 'user and group assignments readable' : 'readable, but nobody is assigned to the enterprise app yet: nothing would be provisioned');
    } catch (err) {
      fail('assignments', err);
      return section;
    }
    try {
      await http.getPage('/users?$top=1&$select=id');
      pass('users', 'readable');
    } catch (err) {
      fail('users', err);
    }
    return section;
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

function graphReason(err: unknown, source: SourceOptions): string {
  if (err instanceof GraphRequestError) {
    const path = pathOf(err.where.url);
    if (err.status === 404 && /\/servicePrincipals\/[^/]+$/.test(path)) {
      return `no service principal with object id ${source.servicePrincipalId} in tenant ${source.tenantId}: servicePrincipalId must be the enterprise app's Object ID (Enterprise applications → the app → Overview), not its application (client) id`;
    }
    if (err.status === 401) return `Graph rejected the token at ${path} (HTTP 401): ${err.message}`;
    if (err.status === 403) {
      const permission = path.includes('/users') ? 'User.Read.All' : 'Application.Read.All';
      return `permission missing at ${path} (HTTP 403): grant the application permission ${permission} with admin consent`;
    }
    if (err.code === 'GRAPH_NETWORK') return `cannot reach ${origin(err.where.url)}: ${networkReason(err.cause) ?? err.message}`;
    return `${path}: ${err.message}`;
  }
  if (err instanceof EntraSyncError) {
    if (err.code === 'AUTH_NETWORK') return `cannot reach the identity platform at ${origin(err.where.url)}: ${networkReason(err.cause) ?? err.message}`;
    if (err.code === 'AUTH_FAILED' && /invalid_client|AADSTS7000215|AADSTS7000222/i.test(err.message)) {
      return `the identity platform refused the client credentials: ${err.message}`;
    }
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

// ── targets ───────────────────────────────────────────────────────────────────────────────────────────

/** A URL without credentials, query or fragment: safe to print. */
export function safeUrl(url: string | undefined): string {
  if (url === undefined) return '(none)';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  try { return new URL(url).pathname; } catch { return url.split('?')[0]!; }
}

function origin(url: string | undefined): string {
  if (url === undefined) return '(unknown)';
  try { return new URL(url).origin; } catch { return url; }
}

function authKind(target: TargetConfig): string {
  switch (target.auth.type) {
    case 'bearer': return target.auth.secondaryToken !== undefined || target.auth.secondaryTokenFile !== undefined ? 'bearer token (primary, secondary on standby)' : 'bearer token';
    case 'oauth2': return `OAuth2 client credentials (client ${target.auth.clientId})`;
    case 'basic': return `basic (user ${target.auth.username})`;
    case 'none': return 'no authentication';
  }
}

/** What a vendor's console needs before its SCIM endpoint accepts a token (the guides' own advice). */
function vendorHint(target: TargetConfig): string {
  switch (target.preset) {
    case 'document360': return ': Document360 accepts the secret token only once the SSO configuration with "Enable SCIM provisioning" is saved; save it, then test again';
    case 'docuware': return ": check the token or OAuth2 client in DocuWare's Configurations → User Provisioning";
    default: return '';
  }
}

/** The connector's checks for one target, each failure explained. The connector is a dry-run one and is closed. */
export async function testTarget(target: TargetConfig, factory: NonNullable<ConnectionTestOptions['createConnector']>): Promise<ConnectionSection> {
  const section: ConnectionSection = {
    kind: 'target', name: target.name,
    subject: `target ${target.name} (${target.type}${target.preset ? `, preset ${target.preset}` : ''}): ${safeUrl(target.baseUrl)}, ${authKind(target)}`,
    checks: [],
  };
  // One attempt per request: a probe reports what is wrong now; the daemon's retries are for syncing.
  const probeConfig = { ...target, retry: { ...target.retry, maxAttempts: 1 } } as TargetConfig;
  let connector: TargetConnector;
  try {
    connector = factory(probeConfig, { dryRun: true });
  } catch (err) {
    section.checks.push({ check: 'setup', ok: false, detail: err instanceof Error ? err.message : String(err) });
    return section;
  }
  try {
    let caps;
    try {
      caps = await connector.capabilities();
    } catch (err) {
      section.checks.push(targetFailure(target, err));
      return section;
    }
    if (target.auth.type === 'oauth2') {
      section.checks.push({ check: 'token endpoint', ok: true, detail: `${safeUrl(target.auth.tokenUrl)} issued an access token for client ${target.auth.clientId}` });
    }
    if (connector.kind === 'scim') {
      const bulk = caps.bulk.supported ? `Bulk (≤ ${caps.bulk.maxOperations} operations)` : 'no Bulk';
      const filter = caps.filter.supported ? `filter (≤ ${caps.filter.maxResults} results)` : 'no filter';
      section.checks.push({ check: 'ServiceProviderConfig', ok: true, detail: `capabilities: ${caps.patch ? 'PATCH' : 'no PATCH (PUT instead)'}, ${bulk}, ${filter}, ${caps.etag ? 'ETags' : 'no ETags'}` });
    }
    const report = await connector.testConnection();
    if (report.ok) {
      const what = connector.kind === 'scim' ? 'a userName filter for a random value answered an empty list' : report.details[report.details.length - 1] ?? 'probe answered';
      section.checks.push({ check: 'auth', ok: true, detail: `${authKind(target)} accepted; ${what}` });
    } else {
      const last = report.details[report.details.length - 1] ?? 'the connector reported a failure without details';
      section.checks.push({ check: connector.kind === 'scim' ? 'filter probe' : 'probe', ok: false, detail: probeReason(target, last) });
    }
    return section;
  } finally {
    await connector.close().catch(() => undefined);
  }
}

/** The connector's probe reports a sentence; say what its status means for the admin. */
function probeReason(target: TargetConfig, message: string): string {
  if (/answered HTTP 401\b/.test(message)) return `token rejected (${message})${vendorHint(target)}`;
  if (/answered HTTP 403\b/.test(message)) return `credentials accepted but not allowed to read users (${message})`;
  return message;
}

function targetFailure(target: TargetConfig, err: unknown): ConnectionCheck {
  if (!(err instanceof TargetError)) return { check: 'connection', ok: false, detail: err instanceof Error ? err.message : String(err) };
  const tokenUrl = target.auth.type === 'oauth2' ? safeUrl(target.auth.tokenUrl) : undefined;
  const fromTokenEndpoint = tokenUrl !== undefined && err.message.startsWith('token endpoint');
  if (fromTokenEndpoint) {
    const network = networkReason(err.cause);
    if (network) return { check: 'token endpoint', ok: false, detail: `OAuth2 token endpoint ${tokenUrl}: ${network}` };
    if (err.status !== undefined && err.status < 500 && err.status !== 429) {
      const oauthError = /HTTP \d+: ([\w.-]+)\)/.exec(err.message)?.[1];
      const clientId = (target.auth as { clientId: string }).clientId;
      return { check: 'token endpoint', ok: false, detail: `OAuth2 token endpoint ${tokenUrl} refused client ${clientId} (HTTP ${err.status}${oauthError ? ` ${oauthError}` : ''}): check the client id and secret${vendorHint(target)}` };
    }
    return { check: 'token endpoint', ok: false, detail: `OAuth2 token endpoint ${tokenUrl}: ${err.message}` };
  }
  const network = networkReason(err.cause);
  if (network) return { check: 'connection', ok: false, detail: `${safeUrl(target.baseUrl)}: ${network}` };
  if (err.status === 401) return { check: 'auth', ok: false, detail: `token rejected (HTTP 401 at ${err.request ?? safeUrl(target.baseUrl)})${vendorHint(target)}` };
  if (err.status === 403) return { check: 'auth', ok: false, detail: `credentials accepted but not allowed (HTTP 403 at ${err.request ?? safeUrl(target.baseUrl)})` };
  if (err.status === 404) return { check: 'connection', ok: false, detail: `${err.message}: is baseUrl the SCIM root (the URL that ends before /Users)?` };
  return { check: 'connection', ok: false, detail: err.message };
}

/** A network failure in words, or undefined when `err` is not one (an HTTP answer, a config problem). */
export function networkReason(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, hostname, address, port } = e as { code?: unknown; hostname?: unknown; address?: unknown; port?: unknown };
    if (typeof code !== 'string') continue;
    const where = typeof hostname === 'string' ? hostname : typeof address === 'string' ? `${address}${typeof port === 'number' ? `:${port}` : ''}` : undefined;
    switch (code) {
      case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME':
        return `host name ${where ?? ''} not found (DNS ${code})`.replace('  ', ' ');
      case 'ECONNREFUSED':
        return `connection refused${where ? ` by ${where}` : ''} (nothing listens there)`;
      case 'ECONNRESET': case 'UND_ERR_SOCKET':
        return `the connection was reset (${code}): a proxy or firewall in between?`;
      case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': case 'ABORT_ERR': case 'ERR_ABORTED':
        return `no answer in time (${code})`;
      case 'EHOSTUNREACH': case 'ENETUNREACH':
        return `network unreachable (${code})`;
      default:
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `TLS certificate not trusted (${code}): set caFile to the CA that signed it`;
    }
  }
  return undefined;
}
