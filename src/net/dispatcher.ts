// The one way out of the customer's network, for Graph (MSAL's token calls and the Graph client) and for every
// target: an undici dispatcher that takes the configured proxy or, without one, HTTPS_PROXY / HTTP_PROXY from
// the environment, skips it for the hosts NO_PROXY names (in both cases), and trusts an extra CA bundle on
// top of Node's built-in roots. Keep-alive connections, capped per origin when asked.
import fs from 'node:fs';
import tls from 'node:tls';
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { EntraSyncError } from '../errors.js';

export interface EgressOptions {
  /** Proxy URL; when absent HTTPS_PROXY / HTTP_PROXY apply. NO_PROXY applies in both cases. */
  proxy?: string | undefined;
  /** PEM file of extra trusted CAs, added to Node's built-in roots. */
  caFile?: string | undefined;
  /** Connect timeout, and the headers and body timeouts of every request. */
  timeoutMs: number;
  /** Most connections per origin (unset: undici's default, unlimited). */
  connections?: number | undefined;
  /** How long an idle connection is kept (unset: undici's default, 4 s). */
  keepAliveTimeoutMs?: number | undefined;
  /** Named in the error when the CA file cannot be used: the error code and where the file is configured. */
  caFileSetting?: { code: string; configPath: string } | undefined;
}

function hasEnvProxy(): boolean {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some((k) => !!process.env[k]);
}

/** The extra CA bundle with Node's roots, read once (a CA bundle is not rotated like a token). */
export function readCaBundle(caFile: string, setting: { code: string; configPath: string } = { code: 'CA_FILE', configPath: 'caFile' }): string[] {
  let pem: string;
  try {
    pem = fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new EntraSyncError(setting.code, `cannot read CA file: ${(err as Error).message}`, { file: caFile, configPath: setting.configPath }, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new EntraSyncError(setting.code, 'CA file holds no PEM certificate', { file: caFile, configPath: setting.configPath });
  }
  // undici's `ca` replaces the default roots, so keep them: the extra bundle is in addition, not instead.
  return [...tls.rootCertificates, pem];
}

/** Builds the dispatcher requests go through. Close it when done. Throws (caFileSetting.code) for an unusable CA file. */
export function createDispatcher(options: EgressOptions): Dispatcher {
  const ca = options.caFile ? readCaBundle(options.caFile, options.caFileSetting) : undefined;
  const tlsOptions = ca ? { ca } : {};
  const common = {
    connect: { ...tlsOptions, timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    ...(options.connections !== undefined ? { connections: options.connections } : {}),
    ...(options.keepAliveTimeoutMs !== undefined ? { keepAliveTimeout: options.keepAliveTimeoutMs } : {}),
  };
  if (options.proxy || hasEnvProxy()) {
    return new EnvHttpProxyAgent({
      ...common,
      ...(options.proxy ? { httpProxy: options.proxy, httpsProxy: options.proxy } : {}),
      // TLS to the origin runs inside the CONNECT tunnel; TLS to an https:// proxy uses proxyTls.
      requestTls: { ...tlsOptions, timeout: options.timeoutMs },
      proxyTls: { ...tlsOptions, timeout: options.timeoutMs },
    });
  }
  return new Agent(common);
}
