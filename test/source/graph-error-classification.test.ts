import { describe, expect, it } from 'vitest';
import { graphErrorCodes, isResyncRequired, isRetryableStatus, isTransientNetworkError } from '../../src/source/graph-errors.js';
import { sample } from './helpers.js';

describe('Graph error classification', () => {
  it('treats expired or reset delta state as resync, in any casing and nesting', () => {
    expect(isResyncRequired(400, sample('32'))).toBe(true); // syncStateNotFound
    expect(isResyncRequired(410, sample('33'))).toBe(true);
    expect(isResyncRequired(410, undefined)).toBe(true); // a bare 410 Gone
    expect(isResyncRequired(400, { error: { code: 'SyncStateNotFound' } })).toBe(true);
    expect(isResyncRequired(404, { error: { code: 'Request_BadRequest', innerError: { code: 'RESYNCREQUIRED' } } })).toBe(true);
    expect(isResyncRequired(400, sample('37'))).toBe(false); // unsupported query is a real error
    expect(isResyncRequired(500, { error: { code: 'syncStateNotFound' } })).toBe(false);
  });

  it('walks innerError and innererror chains', () => {
    expect(graphErrorCodes({ error: { code: 'a', innererror: { code: 'b', innerError: { code: 'c' } } } })).toEqual(['a', 'b', 'c']);
    expect(graphErrorCodes('<html>')).toEqual([]);
  });

  it('retries throttling and transient server failures, not client errors', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410].some(isRetryableStatus)).toBe(false);
  });

  it('recognises transient network failures through cause chains', () => {
    expect(isTransientNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isTransientNetworkError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isTransientNetworkError(new Error('certificate has expired'))).toBe(false);
  });
});
