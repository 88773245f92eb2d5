// `docuware`: DocuWare's guide "How to integrate Azure Entra to DocuWare User provisioning" (UserSync v3).
// Users: the four required mappings plus the two optional name mappings, nothing else (the guide says extra
// mappings cause errors). Groups: displayName only (the guide deletes externalId ← objectId), looked up by
// displayName the first time and by id afterwards, members added but never replaced, no group delete.
// Auth is the user's choice: OAuth2 client credentials or a bearer token.
import { ACTIVE_FROM_IS_SOFT_DELETED } from './scim.js';
import type { TargetPreset } from './types.js';

export const docuwarePreset: TargetPreset = {
  name: 'docuware',
  description: "DocuWare User Provisioning (SCIM): the vendor's Entra mappings, groups by displayName then id, additive members",
  type: 'scim',
  users: {
    mappings: [
      { target: 'userName', expression: 'Item(Split([userPrincipalName], "@"), 1)', matchPriority: 1 },
      ACTIVE_FROM_IS_SOFT_DELETED,
      { target: 'emails[type eq "work"].value', expression: 'Coalesce([mail],[userPrincipalName])' },
      { target: 'externalId', source: 'objectId' },
      { target: 'name.givenName', source: 'givenName' },
      { target: 'name.familyName', source: 'surname' },
    ],
    actions: ['create', 'update', 'disable'],
  },
  groups: {
    mappings: [{ target: 'displayName', source: 'displayName' }],
    matchBy: 'displayName',
    membership: 'additive',
    actions: ['create', 'update'],
  },
};
