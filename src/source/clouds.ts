// National clouds: where to log in and where Graph lives for each, and how explicit overrides replace them.
import type { CloudName } from './options.js';

export interface CloudEndpoints {
  /** https://login.microsoftonline.com (no tenant, no trailing slash). */
  authorityHost: string;
  /** https://graph.microsoft.com (no version, no trailing slash). */
  graphBaseUrl: string;
  /** App-only scope for Graph in this cloud. */
  graphScope: string;
}

export const CLOUD_ENDPOINTS: Record<CloudName, CloudEndpoints> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com', graphScope: 'https://graph.microsoft.com/.default' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us', graphScope: 'https://graph.microsoft.us/.default' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn', graphScope: 'https://microsoftgraph.chinacloudapi.cn/.default' },
};

export interface ResolvedEndpoints extends CloudEndpoints {
  /** True when the authority host is not one of Microsoft's, so MSAL must not run instance discovery. */
  customAuthority: boolean;
  /** True when Graph is not one of the client's built-in hosts, so its hostname goes into customHosts. */
  customGraphHost: boolean;
}

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

export function resolveEndpoints(cloud: CloudName, overrides: { authorityHost?: string | undefined; graphBaseUrl?: string | undefined }): ResolvedEndpoints {
  const base = CLOUD_ENDPOINTS[cloud];
  const authorityHost = overrides.authorityHost ? trimSlash(overrides.authorityHost) : base.authorityHost;
  const graphBaseUrl = overrides.graphBaseUrl ? trimSlash(overrides.graphBaseUrl) : base.graphBaseUrl;
  const knownLogin = Object.values(CLOUD_ENDPOINTS).some((c) => c.authorityHost === authorityHost);
  const knownGraph = new Set(['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn', 'canary.graph.microsoft.com']);
  return {
    authorityHost,
    graphBaseUrl,
    // The token audience stays the cloud's Graph even when Graph is reached through an override host.
    graphScope: base.graphScope,
    customAuthority: !knownLogin,
    customGraphHost: !knownGraph.has(new URL(graphBaseUrl).hostname),
  };
}
