// The simulated tenant's objects and the simulator's options. Property names are Graph's, so an object can be
// served as-is after `$select` projection.

/** A directory extension property: `extension_{appIdWithoutHyphens}_{name}`. */
export type ExtensionPropertyName = `extension_${string}`;
export type ExtensionValue = string | number | boolean | string[] | null;

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  mailNickname: string | null;
  jobTitle: string | null;
  department: string | null;
  accountEnabled: boolean;
  employeeId: string | null;
  companyName: string | null;
  officeLocation: string | null;
  city: string | null;
  country: string | null;
  usageLocation: string | null;
  preferredLanguage: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  userType: 'Member' | 'Guest';
  createdDateTime: string;
  /** The manager's object id. Served as `manager@delta` by users/delta when `manager` is selected, and by /users/{id}/manager. */
  manager: string | null;
  [extension: ExtensionPropertyName]: ExtensionValue | undefined;
}

export interface GraphGroup {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  createdDateTime: string;
}

/** One of the enterprise app's role definitions, in Graph's `appRole` shape (servicePrincipal.appRoles). */
export interface AppRole {
  allowedMemberTypes: string[];
  description: string | null;
  displayName: string | null;
  id: string;
  isEnabled: boolean;
  origin: string;
  value: string | null;
}

export interface AppRoleAssignment {
  id: string;
  deletedDateTime: null;
  appRoleId: string;
  createdDateTime: string;
  principalDisplayName: string | null;
  principalId: string;
  principalType: 'User' | 'Group' | 'ServicePrincipal';
  resourceDisplayName: string;
  resourceId: string;
}

export interface GenerateTenantOptions {
  /** Seed for names, ids, memberships and the fault sequence. Default 1. */
  seed?: number;
  /** Default 20. */
  users?: number;
  /** Default 4. */
  groups?: number;
  /** Direct user members per group. Default 5 (capped at the number of users). */
  membersPerGroup?: number;
  /** How many groups are nested as a member of another group (a chain: group i+1 inside group i). Default 1. */
  nestedGroups?: number;
  /** Fraction of users assigned to the app directly. Default 0.25. */
  assignedUserFraction?: number;
  /** How many groups are assigned to the app (the first ones). Default 2. */
  assignedGroups?: number;
  /** If set, the first group gets this many user members (to exercise members@delta split across pages). */
  largeGroupMembers?: number;
}

export interface FaultOptions {
  /** Probability that a Graph API request gets 429 TooManyRequests. */
  rate429: number;
  /** Retry-After seconds on 429 and 503 (fractions allowed; 0 = send no Retry-After). */
  retryAfterSeconds: number;
  rate503: number;
  rate504: number;
  /** Added delay before every Graph API response. */
  latencyMs: number;
  /** Probability that the connection is destroyed without a response. */
  resetRate: number;
  /** Probability that a valid bearer token is refused as expired (401 InvalidAuthenticationToken). */
  rate401: number;
  /** Probability that a `$deltatoken` request gets 410 Gone with a `Location` (synchronization reset). */
  rate410: number;
  /** Probability that a delta page is served empty (with a nextLink to the same position). */
  emptyPageRate: number;
}

export interface GraphSimulatorOptions {
  tenant?: GenerateTenantOptions;
  /** Objects per delta page and default `$top` for appRoleAssignedTo and members. Default 200; `Prefer: odata.maxpagesize` lowers it per request. */
  pageSize?: number;
  /** `members@delta` entries per delta page before a group is split over several pages. Default 2.5 × pageSize (500 for 200). */
  membersPerPage?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued access tokens. Default 3599. */
  tokenLifetimeSeconds?: number;
  /** Delta and skip tokens older than this get 400 syncStateNotFound. Default 7 days, as Entra documents. */
  deltaTokenMaxAgeSeconds?: number;
  faults?: Partial<FaultOptions>;
  /** Listen address for both servers. Default 127.0.0.1. */
  host?: string;
}
