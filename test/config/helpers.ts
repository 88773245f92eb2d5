// Helpers for config tests: parse text and return the ConfigError's issues (or fail if it parsed).
import { ConfigError, parseConfig } from '../../src/config/load.js';

export const SOURCE = `source:
  tenantId: contoso.onmicrosoft.com
  clientId: app
  clientSecret: s3cr3t-value
  servicePrincipalId: sp
`;

export function issuesOf(text: string, env: Record<string, string | undefined> = {}): ConfigError {
  try {
    parseConfig(text, 'entra-sync.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}
