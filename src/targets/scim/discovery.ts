// What a SCIM server can do, from GET /ServiceProviderConfig (RFC 7643 §5), corrected by per-target overrides
// for servers that misreport. A server without the endpoint gets conservative defaults.
import type { TargetCapabilities } from '../connector.js';
import type { ScimDiscoveryOverrides } from './options.js';

type Json = Record<string, unknown>;

/** When /ServiceProviderConfig is missing: PATCH and filters are what every Entra-compatible server has. */
export const DEFAULT_CAPABILITIES: TargetCapabilities = {
  patch: true,
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 100 },
  etag: false,
  list: true,
};

function section(spc: Json, key: string): Json | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(spc)) if (k.toLowerCase() === lower && v && typeof v === 'object') return v as Json;
  return undefined;
}

function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  // Some servers write booleans as strings.
  if (typeof value === 'string') return value.toLowerCase() === 'true' ? true : value.toLowerCase() === 'false' ? false : undefined;
  return undefined;
}

function positive(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

export function capabilitiesFromServiceProviderConfig(spc: Json | undefined, overrides: ScimDiscoveryOverrides = {}): TargetCapabilities {
  const d = DEFAULT_CAPABILITIES;
  const patch = spc ? section(spc, 'patch') : undefined;
  const bulk = spc ? section(spc, 'bulk') : undefined;
  const filter = spc ? section(spc, 'filter') : undefined;
  const etag = spc ? section(spc, 'etag') : undefined;
  const bulkSupported = overrides.bulk ?? flag(bulk?.supported) ?? d.bulk.supported;
  return {
    patch: overrides.patch ?? flag(patch?.supported) ?? d.patch,
    bulk: {
      supported: bulkSupported,
      maxOperations: overrides.maxOperations ?? positive(bulk?.maxOperations) ?? (bulkSupported ? 100 : 0),
      // 1 MB is the figure RFC 7644's example uses; a server that advertises bulk without a size gets it.
      maxPayloadSize: overrides.maxPayloadSize ?? positive(bulk?.maxPayloadSize) ?? (bulkSupported ? 1_048_576 : 0),
    },
    filter: {
      supported: overrides.filter ?? flag(filter?.supported) ?? d.filter.supported,
      maxResults: overrides.maxResults ?? positive(filter?.maxResults) ?? d.filter.maxResults,
    },
    etag: overrides.etag ?? flag(etag?.supported) ?? d.etag,
    list: overrides.list ?? d.list,
  };
}
