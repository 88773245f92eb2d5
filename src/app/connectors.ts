// The connector each configured target gets. Until the targets' own factory (src/targets/factory.ts) lands,
// SCIM targets are built here directly; a REST target is refused with a clear error rather than half-run.
import type { TargetConfig } from '../config/schema.js';
import { EntraSyncError } from '../errors.js';
import type { TargetConnector } from '../targets/connector.js';
import { ScimConnector } from '../targets/scim/connector.js';

export function createTargetConnector(target: TargetConfig, options: { dryRun: boolean }): TargetConnector {
  if (target.type === 'scim') return new ScimConnector(target.name, target, { dryRun: options.dryRun });
  throw new EntraSyncError('TARGET_UNSUPPORTED', `target "${target.name}" is a REST target, and this build has no REST connector yet`, { objectId: target.name });
}
