// Plain data that flows through the engine: what we last wrote (Link), what the planner decides
// (PlannedOperation), and what every object action leaves behind (ProvisioningLogEntry).
// The engine's functions are pure over these types; state/ stores them and engine/apply executes them.
import type { AttributeChange, MatchCriterion, ObjectType, TargetAttributes } from '../targets/connector.js';

export type LinkStatus = 'active' | 'disabled' | 'deleted';

/** What one target holds for one source object: the link between ids and what we last wrote. */
export interface Link {
  target: string;
  type: ObjectType;
  sourceId: string;
  targetId: string;
  status: LinkStatus;
  /** Target attributes as last written (or as found when adopted), keyed by target path. */
  written: TargetAttributes;
  /** Stable hash of `written`, to skip unchanged objects without comparing every field. */
  hash: string;
  /** For groups: source ids of members we added (additive membership removes only these). */
  members?: string[];
  updatedAt: string;
}

/** Why an object is (or is no longer) in scope; drives disable vs delete and the provisioning log. */
export type ScopeReason =
  | 'inScope'
  | 'unassigned'
  | 'outOfScope' // a scoping filter no longer matches
  | 'softDeleted'
  | 'hardDeleted'
  | 'accountDisabled';

/** The result of scoping and mapping one source object for one target. */
export interface DesiredObject {
  type: ObjectType;
  sourceId: string;
  /** A readable name for logs and plans (userPrincipalName or displayName). */
  displayName: string;
  scope: ScopeReason;
  /** Every mapped attribute, including the create-only ones; absent keys were dropped by IgnoreFlowIfNullOrEmpty. */
  attributes: TargetAttributes;
  /** Paths that are sent only on create (apply "only during creation", default values). */
  createOnly: string[];
  /** Matching criteria in priority order, for the first provisioning of this object. */
  match: MatchCriterion[];
  /** Groups: member source ids (users and nested groups as configured) that should be on the target. */
  members?: string[];
  /** Unresolved references (e.g. manager not yet provisioned): path → source id, back-filled later. */
  pendingReferences?: Record<string, string>;
  /** Paths whose value went through Redact(): sent to the target, shown and stored only as `[redacted]` / a hash. */
  redactedPaths?: string[];
  /** IgnoreObjectFlow or a mapping error: the object is skipped with this reason. */
  skip?: string;
}

export type PlannedOperation =
  | { kind: 'create'; type: ObjectType; sourceId: string; displayName: string; attributes: TargetAttributes; match: MatchCriterion[]; members?: string[]; redactedPaths?: string[] }
  | { kind: 'update'; type: ObjectType; sourceId: string; displayName: string; targetId: string; changes: AttributeChange[]; desired: TargetAttributes; redactedPaths?: string[] }
  | { kind: 'disable' | 'enable'; type: 'user'; sourceId: string; displayName: string; targetId: string; reason: ScopeReason }
  | { kind: 'delete'; type: ObjectType; sourceId: string; displayName: string; targetId: string; reason: ScopeReason }
  | {
      kind: 'addMembers' | 'removeMembers'; type: 'group'; sourceId: string; displayName: string; targetId: string | null; memberSourceIds: string[];
      /** removeMembers in exact mode: target ids of members we never linked (added on the target by someone else). */
      memberTargetIds?: string[];
    }
  | { kind: 'unlink'; type: ObjectType; sourceId: string; displayName: string; targetId: string; reason: string }
  | { kind: 'skip'; type: ObjectType; sourceId: string; displayName: string; reason: string };

export type OperationKind = PlannedOperation['kind'];

export type ProvisioningAction = 'create' | 'update' | 'disable' | 'enable' | 'delete' | 'staged' | 'skip' | 'adopt' | 'members' | 'unlink';

export interface ProvisioningStep {
  name: 'import' | 'scope' | 'match' | 'action' | 'export';
  status: 'success' | 'skipped' | 'failure';
  details: string;
}

/** One entry per object action, like Entra's provisioning logs. */
export interface ProvisioningLogEntry {
  runId: string;
  target: string;
  type: ObjectType;
  sourceId: string;
  targetId: string | null;
  displayName: string;
  action: ProvisioningAction;
  status: 'success' | 'failure' | 'skipped' | 'staged';
  steps: ProvisioningStep[];
  modifiedProperties: { path: string; before: unknown; after: unknown }[];
  error?: { code: string; message: string };
  at: string;
}
