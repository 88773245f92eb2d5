// What the orchestration needs from the per-target state: the TargetsStore's methods it calls, as a type.
// src/sync/ depends on this shape, never on the store's module at run time; each concern names its own
// subset, so a reader sees at a glance which tables a file touches.
import type { TargetsStore } from '../state/targets-store.js';

export type SyncStore = Pick<TargetsStore,
  // transactions
  | 'transaction'
  // links
  | 'link' | 'linkByTargetId' | 'linkOfMember' | 'putLink' | 'deleteLink' | 'linkedCount' | 'linksPage' | 'writtenValueExists'
  // cursor
  | 'cursor' | 'setCursor' | 'linksVersion'
  // journal
  | 'journalBegin' | 'journalEnd' | 'journalDiscard' | 'pendingOperations'
  // failures
  | 'failure' | 'recordFailure' | 'clearFailure' | 'dueFailures'
  // deferred members and pending references
  | 'readyDeferredMembers' | 'addDeferredMembers' | 'dropDeferredMembers' | 'deferredMembersOf'
  | 'setPendingReferences' | 'pendingReferenceHolders' | 'readyPendingReferences'
  // staging, saved plans, runs, the provisioning log
  | 'stage' | 'unstage' | 'approve' | 'reject' | 'savePlan' | 'plan' | 'setPlanStatus' | 'startRun' | 'endRun' | 'log'
  // quarantine and lease
  | 'quarantine' | 'enterQuarantine' | 'clearQuarantine' | 'acquireLease' | 'renewLease' | 'releaseLease' | 'leaseHolder'
>;
