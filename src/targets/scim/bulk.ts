// /Bulk requests (RFC 7644 §3.7): batching within the server's maxOperations and maxPayloadSize, and reading
// the per-operation results. failOnErrors is left unset so one bad object never stops the rest of its batch.
import { TargetError } from '../connector.js';
import { describeErrorBody, kindForStatus } from '../http.js';

export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

export interface BulkWireOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId: string;
  path: string;
  data?: unknown;
  version?: string;
}

export interface BulkOperationOutcome {
  bulkId: string;
  status: number;
  location: string | undefined;
  version: string | undefined;
  response: unknown;
}

const ENVELOPE = JSON.stringify({ schemas: [BULK_REQUEST_SCHEMA], Operations: [] });

export function bulkRequestBody(operations: BulkWireOperation[]): unknown {
  return { schemas: [BULK_REQUEST_SCHEMA], Operations: operations };
}

/**
 * Greedy batches: each holds at most `maxOperations` operations and its JSON stays within `maxPayloadSize` bytes.
 * An operation too large on its own gets a batch of its own (the server will answer 413 and it fails alone).
 */
export function planBulkBatches(operations: BulkWireOperation[], maxOperations: number, maxPayloadSize: number): BulkWireOperation[][] {
  const batches: BulkWireOperation[][] = [];
  const envelopeBytes = Buffer.byteLength(ENVELOPE);
  let current: BulkWireOperation[] = [];
  let bytes = envelopeBytes;
  for (const op of operations) {
    const size = Buffer.byteLength(JSON.stringify(op)) + 1; // + the comma between operations
    if (current.length > 0 && (current.length >= maxOperations || bytes + size > maxPayloadSize)) {
      batches.push(current);
      current = [];
      bytes = envelopeBytes;
    }
    current.push(op);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function statusCode(value: unknown): number {
  // `status` is a string in RFC 7644's examples, a number on some servers, `{code}` on others.
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number.parseInt(value, 10);
  if (value && typeof value === 'object') return statusCode((value as Record<string, unknown>).code);
  return Number.NaN;
}

/** The per-operation outcomes of a BulkResponse, matched to requests by bulkId or, failing that, by position. */
export function parseBulkResponse(body: unknown, sent: BulkWireOperation[]): Map<string, BulkOperationOutcome> {
  const out = new Map<string, BulkOperationOutcome>();
  const ops = body && typeof body === 'object' ? (body as Record<string, unknown>).Operations : undefined;
  if (!Array.isArray(ops)) return out;
  ops.forEach((raw: unknown, index) => {
    if (!raw || typeof raw !== 'object') return;
    const r = raw as Record<string, unknown>;
    const bulkId = typeof r.bulkId === 'string' ? r.bulkId : sent[index]?.bulkId;
    if (bulkId === undefined) return;
    out.set(bulkId, {
      bulkId,
      status: statusCode(r.status),
      location: typeof r.location === 'string' ? r.location : undefined,
      version: typeof r.version === 'string' ? r.version : undefined,
      response: r.response,
    });
  });
  return out;
}

/** The id at the end of a resource location: `https://host/scim/v2/Users/abc%40x` → `abc@x`. */
export function idFromLocation(location: string): string | undefined {
  const last = location.split('?')[0]!.replace(/\/+$/, '').split('/').pop();
  if (!last) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function bulkOperationError(target: string, op: BulkWireOperation, outcome: BulkOperationOutcome | undefined): TargetError {
  const where = `${op.method} ${op.path} (in /Bulk)`;
  if (!outcome || Number.isNaN(outcome.status)) {
    return new TargetError({ kind: 'transient', target, request: where, message: `${where}: the /Bulk response has no result for this operation` });
  }
  const { detail, scimType } = describeErrorBody(outcome.response);
  const tail = [scimType ? `scimType ${scimType}` : undefined, detail].filter(Boolean).join(': ');
  return new TargetError({
    kind: kindForStatus(outcome.status),
    target,
    status: outcome.status,
    scimType,
    request: where,
    message: `${where} answered HTTP ${outcome.status}${tail ? ` (${tail})` : ''}`,
  });
}
