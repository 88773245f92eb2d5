// `document360`: Document360's guide "Managing Users and Readers with SCIM in Entra". Entra's default SCIM
// mapping plus the Boolean extension attribute `isTeamAccount` (true: a team account "User", false: a
// Reader), computed from the job title with the guide's example Switch and "default value if null" False.
// Deleting in Entra makes the account Inactive in Document360: we deactivate and never delete.
// Auth: the SSO configuration's bearer token, with the secondary token for rotation (auth.secondaryToken).
// One Document360 parent project's SCIM settings are inherited by child projects: configure one target
// per project, all from the same source.
import { scimPreset } from './scim.js';
import type { TargetPreset } from './types.js';

export const DOCUMENT360_TEAM_ACCOUNT = 'urn:ietf:params:scim:schemas:extension:document360:2.0:User:isTeamAccount';

export const document360Preset: TargetPreset = {
  name: 'document360',
  description: 'Document360 (SCIM): Entra default mapping + isTeamAccount from the job title, deactivate never delete',
  type: 'scim',
  users: {
    mappings: [
      ...(scimPreset.users?.mappings ?? []),
      {
        target: DOCUMENT360_TEAM_ACCOUNT,
        expression: 'Switch([jobTitle], "False", "Manager", "True", "Senior Manager", "True", "Team Lead", "True")',
        default: 'False',
        type: 'Boolean',
      },
    ],
    actions: ['create', 'update', 'disable'],
  },
  groups: {
    mappings: [
      { target: 'displayName', source: 'displayName', matchPriority: 1 },
      { target: 'externalId', source: 'objectId' },
    ],
    membership: 'exact',
    actions: ['create', 'update'],
  },
};
