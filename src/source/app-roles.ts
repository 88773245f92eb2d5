// The enterprise app's role definitions: one GET of the service principal's `appRoles` per read, so the
// role functions (AppRoleAssignmentsComplex, SingleAppRoleAssignment) can turn a user's appRoleIds into the
// role values and display names the target receives. A malformed answer is an error naming the role, never
// a silent empty list (that would strip every role from the target under the assertive mapping).
import type { SourceAppRole } from './types.js';
import { GraphRequestError, type GraphHttp } from './graph.js';

export async function readAppRoles(http: GraphHttp, servicePrincipalId: string): Promise<SourceAppRole[]> {
  const url = `/servicePrincipals/${encodeURIComponent(servicePrincipalId)}?$select=appRoles`;
  const body = await http.getJson(url);
  return parseAppRoles(body, `${http.apiRoot}${url}`);
}

/** Graph's `appRoles` collection → role definitions. Throws GRAPH_BAD_RESPONSE naming the bad entry. */
export function parseAppRoles(body: Record<string, unknown>, url: string): SourceAppRole[] {
  const list = body.appRoles;
  if (!Array.isArray(list)) throw new GraphRequestError('GRAPH_BAD_RESPONSE', 'service principal answer has no "appRoles" array', url, 200);
  return list.map((item: unknown, i) => {
    const r = (item && typeof item === 'object' ? item : {}) as Record<string, unknown>;
    const bad = (what: string) => new GraphRequestError('GRAPH_BAD_RESPONSE', `appRoles[${i}]${typeof r.id === 'string' ? ` (${r.id})` : ''}: ${what}`, url, 200);
    if (typeof r.id !== 'string' || r.id === '') throw bad('has no "id"');
    if (r.value !== undefined && r.value !== null && typeof r.value !== 'string') throw bad('"value" is not a string');
    if (r.displayName !== undefined && r.displayName !== null && typeof r.displayName !== 'string') throw bad('"displayName" is not a string');
    if (r.isEnabled !== undefined && typeof r.isEnabled !== 'boolean') throw bad('"isEnabled" is not a boolean');
    return {
      id: r.id,
      value: typeof r.value === 'string' && r.value !== '' ? r.value : null,
      displayName: typeof r.displayName === 'string' ? r.displayName : null,
      // Graph always sends isEnabled; a role without it is taken as enabled, as Entra creates them.
      isEnabled: r.isEnabled !== false,
    };
  });
}
