// Reading Graph's error answers: which ones mean "retry later", which mean "your delta state is gone,
// start a full round", and a person-readable description of the rest. Codes are compared case-insensitively
// and searched through the nested innerError chain, because Graph varies both.

export interface GraphErrorBody {
  code?: string;
  message?: string;
  innerError?: unknown;
  innererror?: unknown;
}

/** Every `code` in the error body: error.code, then innerError.code, innerError.innerError.code … */
export function graphErrorCodes(body: unknown): string[] {
  const codes: string[] = [];
  let node: unknown = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  for (let depth = 0; node && typeof node === 'object' && depth < 10; depth++) {
    const e = node as GraphErrorBody;
    if (typeof e.code === 'string') codes.push(e.code);
    node = e.innerError ?? e.innererror;
  }
  return codes;
}

export function graphErrorMessage(body: unknown): string | undefined {
  const error = body && typeof body === 'object' ? (body as { error?: GraphErrorBody }).error : undefined;
  return typeof error?.message === 'string' ? error.message : undefined;
}

const RESYNC_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid']);

/**
 * True when Graph says the delta token can no longer be used: a 410 Gone (synchronization reset), or a
 * 400/404/410 whose error code anywhere in the chain is syncStateNotFound or resyncRequired.
 */
export function isResyncRequired(status: number, body: unknown): boolean {
  if (status === 410) return true;
  if (status !== 400 && status !== 404) return false;
  return graphErrorCodes(body).some((c) => RESYNC_CODES.has(c.toLowerCase()));
}

/** Statuses worth retrying: throttling and transient server or gateway failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Network-level failures (no HTTP answer) that a retry may cure. */
export function isTransientNetworkError(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_(SOCKET|CONNECT_TIMEOUT|HEADERS_TIMEOUT|BODY_TIMEOUT|CLOSED))$/.test(code)) return true;
    if (name === 'TimeoutError') return true; // our own per-request timeout (AbortSignal.timeout); other aborts are final
  }
  return false;
}
