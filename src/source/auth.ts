// App-only authentication for Graph: one long-lived msal-node ConfidentialClientApplication per source,
// built from a client secret (inline or file), a certificate (PEM key + certificate) or a federated token
// file. Secret and certificate files are re-read before token requests and the application is rebuilt when
// they change, so rotation needs no restart; the federated token file is re-read on every token request.
// Nothing here logs a secret, an assertion or a token.
import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import {
  ConfidentialClientApplication,
  LogLevel,
  type Configuration,
  type INetworkModule,
} from '@azure/msal-node';
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ResolvedEndpoints } from './clouds.js';
import type { SourceOptions } from './options.js';

export interface TokenSource {
  /** A Graph access token; `forceRefresh` skips MSAL's cache (after a 401 from Graph). */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

function readFileOrThrow(file: string, configPath: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EntraSyncError('AUTH_CREDENTIAL_FILE', `cannot read ${configPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file, configPath }, { cause: err });
  }
}

/** Hex SHA-256 thumbprint (no colons) of a PEM certificate, as msal's `thumbprintSha256` expects. */
export function certificateThumbprintSha256(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256.replace(/:/g, '');
}

type Credential =
  | { kind: 'secret'; secret: string }
  | { kind: 'certificate'; privateKey: string; certificate: string; sendX5c: boolean }
  | { kind: 'federated'; file: string };

/** Reads the configured credential as it is right now (files included). */
function currentCredential(o: SourceOptions): Credential {
  if (o.clientSecret !== undefined) return { kind: 'secret', secret: o.clientSecret };
  if (o.clientSecretFile !== undefined) {
    const secret = readFileOrThrow(o.clientSecretFile, 'source.clientSecretFile').trim();
    if (!secret) throw new EntraSyncError('AUTH_CREDENTIAL_FILE', 'the client secret file is empty', { file: o.clientSecretFile, configPath: 'source.clientSecretFile' });
    return { kind: 'secret', secret };
  }
  if (o.certificate !== undefined) {
    const c = o.certificate;
    const keyPem = c.privateKey ?? readFileOrThrow(c.privateKeyFile!, 'source.certificate.privateKeyFile');
    const certificate = c.certificate ?? readFileOrThrow(c.certificateFile!, 'source.certificate.certificateFile');
    let privateKey: string;
    try {
      // Normalise PKCS#1 / encrypted keys to unencrypted PKCS#8, which MSAL's signer accepts.
      privateKey = crypto
        .createPrivateKey({ key: keyPem, format: 'pem', ...(c.privateKeyPassphrase !== undefined ? { passphrase: c.privateKeyPassphrase } : {}) })
        .export({ format: 'pem', type: 'pkcs8' })
        .toString();
    } catch (err) {
      throw new EntraSyncError('AUTH_CERTIFICATE', `cannot load the certificate's private key: ${(err as Error).message}`, { configPath: 'source.certificate.privateKey' }, { cause: err });
    }
    return { kind: 'certificate', privateKey, certificate, sendX5c: c.sendX5c };
  }
  if (o.federatedTokenFile !== undefined) return { kind: 'federated', file: o.federatedTokenFile };
  throw new EntraSyncError('AUTH_NO_CREDENTIAL', 'no credential configured', { configPath: 'source' });
}

function fingerprint(c: Credential): string {
  const h = crypto.createHash('sha256');
  if (c.kind === 'secret') h.update(`s:${c.secret}`);
  else if (c.kind === 'certificate') h.update(`c:${c.privateKey}:${c.certificate}:${c.sendX5c}`);
  else h.update(`f:${c.file}`);
  return h.digest('hex');
}

export interface AuthDeps {
  endpoints: ResolvedEndpoints;
  networkClient: INetworkModule & { lastError?: EntraSyncError | undefined };
  logger?: Logger | undefined;
}

/** The msal Configuration for the current credential (exported for tests of discovery settings). */
export function buildMsalConfiguration(options: SourceOptions, credential: Credential, deps: AuthDeps): Configuration {
  const authority = `${deps.endpoints.authorityHost}/${options.tenantId}`;
  const auth: Configuration['auth'] = { clientId: options.clientId, authority };
  if (credential.kind === 'secret') auth.clientSecret = credential.secret;
  else if (credential.kind === 'certificate') {
    let thumbprintSha256: string;
    try {
      thumbprintSha256 = certificateThumbprintSha256(credential.certificate);
    } catch (err) {
      throw new EntraSyncError('AUTH_CERTIFICATE', `cannot parse the certificate: ${(err as Error).message}`, { configPath: 'source.certificate.certificate' }, { cause: err });
    }
    auth.clientCertificate = { thumbprintSha256, privateKey: credential.privateKey, ...(credential.sendX5c ? { x5c: credential.certificate } : {}) };
  } else {
    const file = credential.file;
    // A callback, not a string: MSAL calls it on every network token request, so a rotated token is used.
    auth.clientAssertion = async () => {
      const token = (await fs.promises.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new EntraSyncError('AUTH_CREDENTIAL_FILE', `cannot read source.federatedTokenFile: ${err.code ?? err.message}`, { file, configPath: 'source.federatedTokenFile' }, { cause: err });
      })).trim();
      if (!token) throw new EntraSyncError('AUTH_CREDENTIAL_FILE', 'the federated token file is empty', { file, configPath: 'source.federatedTokenFile' });
      return token;
    };
  }
  if (deps.endpoints.customAuthority) {
    // Not a Microsoft login host: without these MSAL would ask login.microsoftonline.com for instance
    // discovery and fetch OpenID metadata. The endpoints follow the identity platform's fixed layout.
    const host = new URL(deps.endpoints.authorityHost).host;
    auth.knownAuthorities = [host];
    auth.authorityMetadata = JSON.stringify({
      token_endpoint: `${authority}/oauth2/v2.0/token`,
      authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
      issuer: `${authority}/v2.0`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
    });
  }
  const logger = deps.logger;
  return {
    auth,
    system: {
      networkClient: deps.networkClient,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          // App-only tokens never carry client info (there is no signed-in user), so MSAL's warning about
          // its absence says nothing an operator can act on.
          if (level === LogLevel.Error) logger?.error({ component: 'msal' }, message);
          else if (level === LogLevel.Warning && !message.includes('No client info in response')) logger?.warn({ component: 'msal' }, message);
          else logger?.debug({ component: 'msal' }, message);
        },
      },
    },
  };
}

/** Creates the token source; the application is built lazily and rebuilt only when the credential changes. */
export function createTokenSource(options: SourceOptions, deps: AuthDeps): TokenSource {
  let app: ConfidentialClientApplication | undefined;
  let appFingerprint: string | undefined;
  const scopes = [deps.endpoints.graphScope];

  function application(): ConfidentialClientApplication {
    const credential = currentCredential(options);
    const fp = fingerprint(credential);
    if (!app || fp !== appFingerprint) {
      if (app) deps.logger?.info({ component: 'auth' }, 'credential changed on disk; using the new one');
      app = new ConfidentialClientApplication(buildMsalConfiguration(options, credential, deps));
      appFingerprint = fp;
    }
    return app;
  }

  // Reads run side by side and start together: they share one token request instead of each asking MSAL
  // while its cache is still empty.
  let inFlight: Promise<string> | undefined;

  return {
    getToken(opts = {}) {
      if (!opts.forceRefresh && inFlight) return inFlight;
      const request = acquire(opts).finally(() => { if (inFlight === request) inFlight = undefined; });
      if (!opts.forceRefresh) inFlight = request;
      return request;
    },
  };

  async function acquire(opts: { forceRefresh?: boolean }): Promise<string> {
    const cca = application();
    let result;
    deps.networkClient.lastError = undefined;
    try {
      result = await cca.acquireTokenByClientCredential({ scopes, ...(opts.forceRefresh ? { skipCache: true } : {}) });
    } catch (err) {
      if (err instanceof EntraSyncError) throw err;
      const e = err as { errorCode?: string; errorMessage?: string; message?: string; cause?: unknown };
      // MSAL wraps our network client's errors; surface the original (it names the endpoint).
      const inner = findEntraSyncError(err) ?? (e.errorCode === 'network_error' ? deps.networkClient.lastError : undefined);
      if (inner) throw inner;
      throw new EntraSyncError(
        'AUTH_FAILED',
        `token request for client ${options.clientId} in tenant ${options.tenantId} failed: ${e.errorCode ? `${e.errorCode}: ` : ''}${firstLine(e.errorMessage || e.message || String(err))}`,
        { url: `${deps.endpoints.authorityHost}/${options.tenantId}`, configPath: 'source' },
        { cause: err },
      );
    }
    if (!result?.accessToken) throw new EntraSyncError('AUTH_FAILED', 'the identity platform returned no access token', { configPath: 'source' });
    return result.accessToken;
  }
}

function findEntraSyncError(err: unknown): EntraSyncError | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if (e instanceof EntraSyncError) return e;
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split(/\r?\n/)[0]!.slice(0, 400);
}
