// The sync engine's typed event map. Logs and metrics subscribe to these instead of being threaded
// through the apply and cycle code (graphile-worker style): the engine says what happened, once.
import type { OperationKind, PlannedOperation } from '../engine/types.js';
import type { ObjectType } from '../targets/connector.js';

export interface OperationErrorInfo {
  code: string;
  kind: string;
  message: string;
  /** Only for kind 'bug' (an exception nobody classified): where it was thrown. */
  stack?: string;
}

export interface SyncEventMap {
  'cycle:start': { target: string; runId: string; kind: string; dryRun: boolean; full: boolean; cursor: number; at: Date };
  'cycle:end': { target: string; runId: string; status: string; durationMs: number; summary: unknown };
  'cycle:skipped': { target: string; reason: string; nextAttempt?: string };
  'object:planned': { target: string; runId: string; type: ObjectType; sourceId: string; kinds: OperationKind[] };
  'operation:sent': { target: string; runId: string; operation: PlannedOperation; outcome: 'created' | 'adopted' | 'updated' | 'done'; durationMs: number };
  'operation:failed': { target: string; runId: string; operation: PlannedOperation; error: OperationErrorInfo; retryAt: string | null };
  'operation:staged': { target: string; runId: string; operation: PlannedOperation };
  'operation:recovered': { target: string; operation: PlannedOperation; landed: boolean };
  'members:deferred': { target: string; runId: string; groupSourceId: string; memberSourceIds: string[] };
  'target:quarantined': { target: string; reason: string; message: string; nextAttempt: string };
  'target:released': { target: string };
  /** A Graph read (one `sync`/`resync`/`plan` read; provision's single-object reads are not counted). */
  'read:start': { full: boolean; at: Date };
  'read:end': { full: boolean; status: 'success' | 'failed'; durationMs: number; requests: number; error?: { code: string } };
  /** One HTTP exchange with Graph (service 'graph') or a target (service 'target', with its name). */
  'http:request': { service: 'graph' | 'target'; target?: string; method: string; status: number | 'error'; durationMs: number };
  /** A request that will be sent again: after a throttle (429, with or without Retry-After), a 5xx or a network error. */
  'http:retry': { service: 'graph' | 'target'; target?: string; reason: 'throttled' | 'unavailable' | 'network'; status?: number; waitMs: number; retryAfter: boolean };
}

export type SyncEventName = keyof SyncEventMap;
type Listener<K extends SyncEventName> = (payload: SyncEventMap[K]) => void;

/** A tiny typed emitter. A throwing listener is reported once and never breaks the engine. */
export class SyncEvents {
  private readonly listeners = new Map<SyncEventName, Set<(payload: never) => void>>();
  private readonly onListenerError: (err: unknown, event: SyncEventName) => void;

  constructor(options: { onListenerError?: (err: unknown, event: SyncEventName) => void } = {}) {
    this.onListenerError = options.onListenerError ?? (() => undefined);
  }

  on<K extends SyncEventName>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) { set = new Set(); this.listeners.set(event, set); }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  off<K extends SyncEventName>(event: K, listener: Listener<K>): void {
    this.listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  emit<K extends SyncEventName>(event: K, payload: SyncEventMap[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<K>)(payload);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
