// The connector each configured target gets: the targets' own factory, with dry run enforced at its HTTP
// layer (a mutating request cannot leave, whatever the engine asks).
import type { TargetConfig } from '../config/schema.js';
import type { HttpObserver } from '../net/events.js';
import type { TargetConnector } from '../targets/connector.js';
import { createConnector } from '../targets/factory.js';

export function createTargetConnector(target: TargetConfig, options: { dryRun: boolean; http?: HttpObserver | undefined }): TargetConnector {
  return createConnector(target.name, target, { dryRun: options.dryRun, ...(options.http ? { observer: options.http } : {}) });
}
