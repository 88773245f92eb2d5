// Test helpers for the Graph simulator: an undici Agent that trusts the simulator's CA, a minimal MSAL network
// client on top of it (the production one belongs to the Graph reader), and small HTTP helpers.
import { readFileSync } from 'node:fs';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, fetch } from 'undici';
import type { GraphSimulator } from '../../../src/simulators/graph/index.js';

export function trustingAgent(caPem: string): Agent {
  return new Agent({ connect: { ca: caPem } });
}

/** MSAL's INetworkModule over undici with the simulator's CA; records every URL MSAL asks for. */
export class RecordingNetworkClient implements INetworkModule {
  readonly urls: string[] = [];

  constructor(private readonly dispatcher: Agent) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(url: string, method: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    this.urls.push(`${method} ${url}`);
    const response = await fetch(url, {
      method,
      headers: options?.headers,
      body: options?.body,
      dispatcher: this.dispatcher,
      signal: timeout ? AbortSignal.timeout(timeout) : undefined,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { status: response.status, headers, body: (await response.json()) as T };
  }
}

export interface GraphResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

type Headers = { get(name: string): string | null };

/** A token for the simulator, fetched with a plain form POST (the MSAL tests cover MSAL itself). */
export async function accessToken(sim: GraphSimulator, agent: Agent): Promise<string> {
  const response = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams({
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      grant_type: 'client_credentials',
      scope: `${sim.graphBaseUrl}/.default`,
    }).toString(),
    dispatcher: agent,
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** GET an absolute or /v1.0-relative Graph URL with a bearer token. */
export async function graphGet(
  sim: GraphSimulator,
  agent: Agent,
  token: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<GraphResponse> {
  const absolute = url.startsWith('https://') ? url : `${sim.graphBaseUrl}/v1.0/${url.replace(/^\//, '')}`;
  const response = await fetch(absolute, { headers: { Authorization: `Bearer ${token}`, ...headers }, dispatcher: agent });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // text/plain ($count) or empty
  }
  return { status: response.status, headers: response.headers, body, text };
}

export type Item = Record<string, unknown>;

/** Follow nextLinks to the deltaLink; returns every page's items in order and the deltaLink. */
export async function deltaRound(
  sim: GraphSimulator,
  agent: Agent,
  token: string,
  firstUrl: string,
  headers: Record<string, string> = {},
): Promise<{ items: Item[]; pages: GraphResponse[]; deltaLink: string }> {
  const pages: GraphResponse[] = [];
  const items: Item[] = [];
  let url = firstUrl;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await graphGet(sim, agent, token, url, headers);
    if (page.status !== 200) throw new Error(`GET ${url} → ${page.status} ${page.text}`);
    pages.push(page);
    items.push(...(page.body.value as Item[]));
    const next = page.body['@odata.nextLink'];
    const delta = page.body['@odata.deltaLink'];
    if (typeof delta === 'string') return { items, pages, deltaLink: delta };
    if (typeof next !== 'string') throw new Error(`page without nextLink or deltaLink: ${page.text}`);
    url = next;
  }
  throw new Error('delta round did not end');
}

/** A copy of a graph-samples payload (reference/graph-samples, invented data with Microsoft's shapes). */
export function sample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/graph-samples/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The key paths of a JSON value (arrays described by their first element), for comparing wire shapes. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [`${prefix}[]`] : keyPaths(value[0], `${prefix}[]`);
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}
