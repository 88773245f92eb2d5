// Outbound HTTP for the source: one dispatcher (src/net/dispatcher.ts: proxy from config or HTTPS_PROXY/
// NO_PROXY, an extra CA bundle, timeouts) shared by MSAL's token calls and the Graph client, so both take the
// same path out of the customer's network. Also the msal-node INetworkModule built on it (msal-node 5+ has
// no proxy option), and how network errors and answers are described.
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { EntraSyncError } from '../errors.js';
import { createDispatcher, type EgressOptions } from '../net/dispatcher.js';

/** The dispatcher every source request goes through (src/net/dispatcher.ts), with the source's settings. Close it when done. */
export function createSourceDispatcher(options: Pick<EgressOptions, 'proxy' | 'caFile' | 'timeoutMs'>): Dispatcher {
  return createDispatcher({ ...options, caFileSetting: { code: 'SOURCE_CA_FILE', configPath: 'source.caFile' } });
}

/** Counts HTTP attempts per host, for the read summary and the benchmark. */
export interface RequestCounter {
  count(url: string): void;
}

/**
 * msal-node network client on undici. Token endpoint answers that are not JSON (a proxy's HTML error page,
 * a captive portal) become a clear error instead of MSAL's generic parse failure.
 */
export interface MsalNetworkClient extends INetworkModule {
  /** The last failure of this client. MSAL replaces network errors with a bare "network_error"; this keeps the cause. */
  lastError: EntraSyncError | undefined;
}

export function createMsalNetworkClient(dispatcher: Dispatcher, timeoutMs: number, counter?: RequestCounter): MsalNetworkClient {
  async function send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeout: number | undefined): Promise<NetworkResponse<T>> {
    counter?.count(url);
    const where = { url: stripQuery(url) };
    let res;
    try {
      res = await undiciFetch(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        dispatcher,
        signal: AbortSignal.timeout(timeout ?? timeoutMs),
      });
    } catch (err) {
      client.lastError = new EntraSyncError('AUTH_NETWORK', `cannot reach the identity platform: ${describeNetworkError(err)}`, where, { cause: err });
      throw client.lastError;
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      client.lastError = new EntraSyncError('AUTH_BAD_RESPONSE', `identity platform answered HTTP ${res.status} with a non-JSON body (${snippet(text)})`, where);
      throw client.lastError;
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => { headers[key] = value; });
    return { status: res.status, headers, body: body as T };
  }
  const client: MsalNetworkClient = {
    lastError: undefined,
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options, undefined),
  };
  return client;
}

/** Query strings can carry tokens (skip/delta tokens, correlation ids); errors name the endpoint only. */
export function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

export function snippet(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty)';
}

export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { message, code } = e as { message?: string; code?: string };
    const part = [code, message].filter(Boolean).join(' ');
    if (part && !parts.includes(part)) parts.push(part);
  }
  return parts.join(': ') || String(err);
}
