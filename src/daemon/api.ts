// What the daemon offers its HTTP routes and, through them, the CLI and the admin console: the admin
// actions (each queued on the targets' queues, in order with scheduled cycles), status and readiness.
// The routes (src/daemon/server.ts, routes/) depend only on this interface; src/daemon/daemon.ts implements it.
import type { ProvisionReport, StatusReport, SyncReport, TargetOutcome } from '../runtime/runtime.js';
import type { PlannedOperation } from '../engine/types.js';

export interface ResumeReport {
  targets: { target: string; wasQuarantined: boolean; reason: string | null; failuresDue: number }[];
}

export interface DaemonStatus extends StatusReport {
  daemon: {
    pid: number;
    startedAt: string;
    schedule: { cron: string; runOnStart: boolean; nextRunAt: string | null };
    /** The job running now, if any (a scheduled cycle, an admin sync, a provision …). */
    running: { kind: string; target: string | null; startedAt: string } | null;
    queued: number;
    /** Per target: when its last successful cycle ended (null before the first). */
    lastSuccessAt: Record<string, string | null>;
    shuttingDown: boolean;
  };
}

export interface Readiness {
  ready: boolean;
  /** Why not ready, per target where it applies; empty when ready. */
  reasons: { target?: string; code: string; message: string }[];
}

export interface DaemonApi {
  sync(request: { target?: string; full?: boolean }): Promise<SyncReport>;
  resync(request: { target?: string }): Promise<SyncReport>;
  provision(request: { user?: string; group?: string; members?: string[]; target?: string }): Promise<ProvisionReport>;
  approve(request: { target?: string }): Promise<TargetOutcome[]>;
  reject(request: { target?: string }): Promise<{ target: string; dropped: PlannedOperation[] }[]>;
  resume(request: { target?: string }): Promise<ResumeReport>;
  status(): DaemonStatus;
  readiness(): Readiness;
  /** Prometheus text exposition (prom-client's registry). */
  metrics(): Promise<{ contentType: string; body: string }>;
}
