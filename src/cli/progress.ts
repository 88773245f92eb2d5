// A one-line progress display for long Graph reads and applies, redrawn in place. Only on a terminal:
// when stdout is a pipe or a file nothing is drawn, so scripts and logs never see carriage returns.
import type { RuntimeProgress } from '../runtime/runtime.js';

export interface ProgressLine {
  /** Give this to `openRuntime({ onProgress })`; undefined when the stream is not a terminal. */
  readonly onProgress: ((p: RuntimeProgress) => void) | undefined;
  /** Erases the line (call before printing a result). */
  clear(): void;
}

const int = (n: number) => n.toLocaleString('en-US');

type ReadStep = Extract<RuntimeProgress, { stage: 'read' }>;
type ApplyStep = Extract<RuntimeProgress, { stage: 'apply' }>;

/**
 * One line for the latest progress. The read's phases (assignments, users, groups) run side by side, so a
 * read step is shown with the latest of every phase seen so far (`reads`, in the order they started); the
 * targets' cycles run side by side too, so an apply step is shown with the latest of every target
 * (`applying`, by target name).
 */
export function describeProgress(
  p: RuntimeProgress,
  reads?: ReadonlyMap<ReadStep['phase'], ReadStep>,
  applying?: ApplyStep | ReadonlyMap<string, ApplyStep>,
): string {
  const sent = (a: ApplyStep) => `${a.target}: ${int(a.sent)} of ${int(a.planned)} operations sent${a.failed ? `, ${int(a.failed)} failed` : ''}`;
  const phases = (list: ReadStep[]) => list.map((r) => `${r.phase} ${int(r.items)} (${int(r.pages)} pages)`).join(', ');
  const targets = applying === undefined ? [] : 'stage' in applying ? [applying] : [...applying.values()];
  if (p.stage === 'read') {
    const list = reads?.size ? [...reads.values()] : [p];
    // A long users round is applied while it is read (sync): both go on at once.
    return targets.length ? `read from Entra: ${phases(list)} · ${targets.map(sent).join(' · ')}` : `reading Entra: ${phases(list)}`;
  }
  const list = targets.some((t) => t.target === p.target) ? targets : [...targets, p];
  const text = list.map(sent).join(' · ');
  return reads?.size ? `read from Entra: ${phases([...reads.values()])} · ${text}` : text;
}

export function progressLine(stream: NodeJS.WriteStream = process.stdout, intervalMs = 100): ProgressLine {
  if (!stream.isTTY) return { onProgress: undefined, clear() { /* nothing drawn */ } };
  let last = 0;
  let drawn = false;
  const reads = new Map<ReadStep['phase'], ReadStep>();
  const applying = new Map<string, ApplyStep>();
  return {
    onProgress(p) {
      if (p.stage === 'read') reads.set(p.phase, p);
      else applying.set(p.target, p);
      const now = Date.now();
      if (now - last < intervalMs) return; // a redraw per operation would cost more than the operation
      last = now;
      const text = describeProgress(p, reads, applying);
      const width = stream.columns ? stream.columns - 1 : 100;
      stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
