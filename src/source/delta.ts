// The page loops: one delta round (users or groups) from the stored deltaLink or the initial URL to the next
// deltaLink, and the assignment list (no delta exists for it). Pages go straight to the store's stage tables;
// nothing is applied here. A delta state Graph no longer accepts turns the round into a full one by itself.
import { EntraSyncError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { SourceStoreImpl, StagedAssignment } from '../state/source-store.js';
import { GraphRequestError, type GraphHttp, type GraphPage } from './graph.js';

export type RoundMode = 'full' | 'incremental';

export interface RoundResult {
  mode: RoundMode;
  deltaLink: string;
  pages: number;
  items: number;
  /** Graph rejected the stored delta state and a full round was done instead. */
  resynced: boolean;
}

export interface ReadProgress {
  phase: 'assignments' | 'users' | 'groups';
  pages: number;
  items: number;
}

export interface DeltaRoundOptions {
  kind: 'users' | 'groups';
  initialUrl: string;
  /** The stored deltaLink, or undefined for a full round. */
  deltaLink: string | undefined;
  onProgress?: ((p: ReadProgress) => void) | undefined;
  /** Called after each page is staged, with the round's mode at that point (a rejected delta state makes it full). */
  afterPage?: ((mode: RoundMode) => void) | undefined;
  logger?: Logger | undefined;
}

export async function readDeltaRound(http: GraphHttp, store: SourceStoreImpl, options: DeltaRoundOptions): Promise<RoundResult> {
  let mode: RoundMode = options.deltaLink ? 'incremental' : 'full';
  let url = options.deltaLink ?? options.initialUrl;
  let resynced = false;
  let pages = 0;
  let items = 0;
  store.clearStage([options.kind]);
  // The next page is requested as soon as its link is known, before this page is staged: the round then
  // costs Graph's latency per page, not Graph's latency plus our staging.
  let prefetched: Promise<GraphPage> | undefined;
  for (;;) {
    let page: GraphPage;
    try {
      page = await (prefetched ?? http.getPage(url));
    } catch (err) {
      prefetched = undefined;
      // Expired or reset delta state: start again from our own initial URL (never Graph's Location header,
      // which may drop our $select) as a full round, which also finds what was deleted meanwhile.
      if (err instanceof GraphRequestError && err.resyncRequired && mode === 'incremental') {
        options.logger?.warn({ component: 'source', kind: options.kind, status: err.status, codes: err.graphCodes }, 'delta state rejected by Graph; starting a full round');
        store.clearStage([options.kind]);
        mode = 'full';
        resynced = true;
        url = options.initialUrl;
        pages = 0;
        items = 0;
        continue;
      }
      throw err;
    }
    prefetched = page.nextLink ? http.getPage(page.nextLink) : undefined;
    prefetched?.catch(() => undefined); // awaited next turn; not unhandled if staging this page throws first
    if (options.kind === 'users') store.stageUsers(page.value);
    else store.stageGroups(page.value);
    pages++;
    items += page.value.length;
    options.onProgress?.({ phase: options.kind, pages, items });
    if (page.nextLink) options.afterPage?.(mode);
    if (page.nextLink) {
      url = page.nextLink;
    } else if (page.deltaLink) {
      return { mode, deltaLink: page.deltaLink, pages, items, resynced };
    } else {
      throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'delta page has neither @odata.nextLink nor @odata.deltaLink', url, 200);
    }
  }
}

/** Reads every app role assignment granted on the service principal (users and groups; others ignored). */
export async function readAssignments(
  http: GraphHttp,
  store: SourceStoreImpl,
  options: { servicePrincipalId: string; pageSize: number; onProgress?: ((p: ReadProgress) => void) | undefined },
): Promise<{ pages: number; items: number }> {
  store.clearStage(['assignments']);
  let url: string | undefined = `/servicePrincipals/${encodeURIComponent(options.servicePrincipalId)}/appRoleAssignedTo?$top=${options.pageSize}`;
  let pages = 0;
  let items = 0;
  while (url) {
    const page = await http.getPage(url);
    const staged: StagedAssignment[] = [];
    for (const item of page.value) {
      const { principalId, principalType, appRoleId } = item as { principalId?: unknown; principalType?: unknown; appRoleId?: unknown };
      if (principalType !== 'User' && principalType !== 'Group') continue; // service principals are not provisioned
      if (typeof principalId !== 'string' || typeof appRoleId !== 'string') {
        throw new EntraSyncError('GRAPH_BAD_RESPONSE', `app role assignment ${String(item.id)} lacks principalId or appRoleId`, { url });
      }
      staged.push({ principalId, principalType, appRoleId });
    }
    store.stageAssignments(staged);
    pages++;
    items += staged.length;
    options.onProgress?.({ phase: 'assignments', pages, items });
    if (page.deltaLink) throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'assignment page unexpectedly carries a deltaLink', url, 200);
    url = page.nextLink;
  }
  return { pages, items };
}
