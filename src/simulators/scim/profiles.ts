// Target profiles: how a specific real SCIM service behaves, as far as its vendor documentation tells us
// (see docs/simulators.md for what is documented and what is inferred).

import { SCHEMAS, URN, type SchemaDef } from './schema.js';

export type ProfileName = 'generic' | 'docuware' | 'document360';

export interface ProfileBehaviour {
  name: ProfileName;
  userExtensions: SchemaDef[];
  /** Name the service gives its user schema in /Schemas. */
  userSchemaName: string;
  /** PATCH success status per resource type (RFC 7644 allows 200 with the resource or 204). */
  patchStatus: { user: 200 | 204; group: 200 | 204 };
  /** DELETE /Users/{id} marks the user inactive instead of removing it (Document360). */
  deleteUserDeactivates: boolean;
  /** A member id that does not exist: 400 invalidValue, or silently dropped (DocuWare: "assigned if they exist"). */
  unknownMembers: 'reject' | 'drop';
  /** PUT and `replace members` only ever add members (DocuWare: "existing members are not replaced"). */
  membersAddOnly: boolean;
  /** POST /Groups with a displayName that exists updates that group instead of 409 (DocuWare's lookup by displayName). */
  groupCreateMergesByDisplayName: boolean;
  /** Filters the service supports: attribute (lower-case) → allowed; only `eq` joined by `and`. Undefined = full RFC filters. */
  filterableUsers?: Set<string>;
  filterableGroups?: Set<string>;
  /** Mutating requests must say `Content-Type: application/scim+json` (DocuWare). */
  requireScimContentType: boolean;
  /** Filtered `replace` with no matching value creates it (Entra-tuned) instead of 400 noTarget (RFC). */
  upsertFilteredReplace: boolean;
  /** Users the service has but did not get from this IdP are hidden from lists unless `allDocuWareUsers=true`. */
  hideForeignUsers: boolean;
  /** User attributes the service handles in PATCH (lower-cased); others are a 400. Undefined = all. */
  honouredUserAttributes?: Set<string>;
  /** An unauthenticated health check at `{base}/health`. */
  healthCheck: boolean;
  /** Value stored for an extension boolean left unset on create (Document360: unset means Reader). */
  defaultTeamAccount?: boolean;
}

const GENERIC: ProfileBehaviour = {
  name: 'generic',
  userExtensions: [SCHEMAS.enterpriseUser],
  userSchemaName: 'User',
  patchStatus: { user: 200, group: 200 },
  deleteUserDeactivates: false,
  unknownMembers: 'reject',
  membersAddOnly: false,
  groupCreateMergesByDisplayName: false,
  requireScimContentType: false,
  upsertFilteredReplace: false,
  hideForeignUsers: false,
  healthCheck: false,
};

const DOCUWARE: ProfileBehaviour = {
  ...GENERIC,
  name: 'docuware',
  userSchemaName: 'Core2EnterpriseUser',
  // Entra's guidance: group PATCH answers 204; DocuWare's service is built for Entra.
  patchStatus: { user: 204, group: 204 },
  unknownMembers: 'drop',
  membersAddOnly: true,
  groupCreateMergesByDisplayName: true,
  filterableUsers: new Set(['username', 'externalid', 'id']),
  filterableGroups: new Set(['displayname', 'id']),
  requireScimContentType: true,
  upsertFilteredReplace: true,
  hideForeignUsers: true,
  // userName, email, activeness (+ first/last name from the on-premises connector); the guide warns that
  // extra mappings "can cause errors when updated users are provisioned".
  honouredUserAttributes: new Set(['username', 'externalid', 'active', 'emails', 'name']),
  healthCheck: true,
};

const DOCUMENT360: ProfileBehaviour = {
  ...GENERIC,
  name: 'document360',
  userExtensions: [SCHEMAS.enterpriseUser, SCHEMAS.document360User],
  deleteUserDeactivates: true,
  upsertFilteredReplace: true,
  defaultTeamAccount: false,
};

export function profileBehaviour(name: ProfileName): ProfileBehaviour {
  switch (name) {
    case 'generic':
      return GENERIC;
    case 'docuware':
      return DOCUWARE;
    case 'document360':
      return DOCUMENT360;
  }
}

export const DOCUMENT360_URN = URN.document360;
