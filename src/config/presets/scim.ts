// `scim`: the core of Entra's default attribute mapping for a non-gallery SCIM app (customize-application-
// attributes.md, "Default non-gallery SCIM user mapping"), for any SCIM 2.0 target. Addresses, phone numbers
// and the enterprise extension are left out: add them as mappings when the target keeps them.
import type { MappingInput, TargetPreset } from './types.js';

/** Entra's stock deprovisioning mapping: IsSoftDeleted True → active False. */
export const ACTIVE_FROM_IS_SOFT_DELETED: MappingInput = {
  target: 'active',
  expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")',
  type: 'Boolean',
};

export const scimPreset: TargetPreset = {
  name: 'scim',
  description: "Entra's default non-gallery SCIM mapping (userName ← userPrincipalName, matching on userName)",
  type: 'scim',
  users: {
    mappings: [
      { target: 'userName', source: 'userPrincipalName', matchPriority: 1 },
      ACTIVE_FROM_IS_SOFT_DELETED,
      { target: 'displayName', source: 'displayName' },
      { target: 'title', source: 'jobTitle' },
      { target: 'emails[type eq "work"].value', source: 'mail' },
      { target: 'preferredLanguage', source: 'preferredLanguage' },
      { target: 'name.givenName', source: 'givenName' },
      { target: 'name.familyName', source: 'surname' },
      { target: 'name.formatted', expression: 'Join(" ", [givenName], [surname])' },
      { target: 'externalId', source: 'mailNickname' },
    ],
    actions: ['create', 'update', 'disable'],
  },
  groups: {
    mappings: [
      { target: 'displayName', source: 'displayName', matchPriority: 1 },
      { target: 'externalId', source: 'objectId' },
    ],
    actions: ['create', 'update'],
    membership: 'exact',
  },
};
