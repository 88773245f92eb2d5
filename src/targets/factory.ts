// Builds the connector a target's configuration asks for. The engine only ever sees TargetConnector.
import type { TargetConnector } from './connector.js';
import type { TargetRequestStats } from './http.js';
import { RestConnector } from './rest/connector.js';
import { restTargetOptionsSchema, type RestTargetOptionsInput } from './rest/options.js';
import { ScimConnector, type ConnectorDeps } from './scim/connector.js';
import { scimTargetOptionsSchema, type ScimTargetOptionsInput } from './scim/options.js';

export type TargetConnectorOptions = ({ type: 'scim' } & ScimTargetOptionsInput) | ({ type: 'rest' } & RestTargetOptionsInput);

/** A connector with its live request counters (for metrics and benchmarks). */
export type CountingConnector = TargetConnector & { readonly stats: TargetRequestStats };

/**
 * `options` may be raw (defaults not yet applied) or already parsed by the config schema: parsing is idempotent.
 * Unknown keys (name, preset, mappings …) are ignored here.
 */
export function createConnector(name: string, options: TargetConnectorOptions, deps: ConnectorDeps = {}): CountingConnector {
  if (options.type === 'scim') return new ScimConnector(name, scimTargetOptionsSchema.parse(options), deps);
  return new RestConnector(name, restTargetOptionsSchema.parse(options), deps);
}

export type { ConnectorDeps };
