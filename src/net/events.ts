// What the network layer tells the rest: one `http:request` per attempt that left the process and one
// `http:retry` per attempt repeated (the typed events of src/observability/events.ts, which metrics and logs
// subscribe to). The network code reports to an HttpObserver; the runtime's is its event map, and the Graph
// reader on its worker thread has one that batches them into messages for the runtime (HttpEventBuffer).
import type { SyncEventMap, SyncEvents } from '../observability/events.js';

export type HttpRequestEvent = SyncEventMap['http:request'];
export type HttpRetryEvent = SyncEventMap['http:retry'];
export type HttpEvent = { type: 'http:request'; event: HttpRequestEvent } | { type: 'http:retry'; event: HttpRetryEvent };

export interface HttpObserver {
  request(event: HttpRequestEvent): void;
  retry(event: HttpRetryEvent): void;
}

/** An observer that emits on the runtime's event map. */
export function httpEventsOn(events: Pick<SyncEvents, 'emit'>): HttpObserver {
  return {
    request: (event) => events.emit('http:request', event),
    retry: (event) => events.emit('http:retry', event),
  };
}

/** Why a request is sent again, from the status it got (none: a network error or timeout). */
export function retryReason(status: number | undefined): HttpRetryEvent['reason'] {
  if (status === undefined) return 'network';
  return status === 429 ? 'throttled' : 'unavailable';
}

/** Most events held before they are handed over. */
const BUFFER_MAX = 256;
/** Longest an event waits to be handed over. */
const BUFFER_WAIT_MS = 250;

/**
 * Collects events and hands them over in batches: at BUFFER_MAX, BUFFER_WAIT_MS after the first of a batch,
 * or when `flush()` is called (before any other message, so the receiver sees them in order). One message
 * per request would cost the hot read little at Graph's page sizes, but a throttled read retries in bursts.
 */
export class HttpEventBuffer implements HttpObserver {
  private events: HttpEvent[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deliver: (events: HttpEvent[]) => void) {}

  request(event: HttpRequestEvent): void {
    this.add({ type: 'http:request', event });
  }

  retry(event: HttpRetryEvent): void {
    this.add({ type: 'http:retry', event });
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    this.deliver(events);
  }

  private add(event: HttpEvent): void {
    this.events.push(event);
    if (this.events.length >= BUFFER_MAX) { this.flush(); return; }
    if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, BUFFER_WAIT_MS);
      // A pending batch must not keep the worker's event loop alive on its own.
      this.timer.unref();
    }
  }
}

/** Replays batched events on an observer (the runtime's side of HttpEventBuffer). */
export function replayHttpEvents(events: readonly HttpEvent[], observer: HttpObserver): void {
  for (const e of events) {
    if (e.type === 'http:request') observer.request(e.event);
    else observer.retry(e.event);
  }
}
