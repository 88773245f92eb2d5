// The mapping expressions published in the vendors' Entra guides (DocuWare, Document360), as plain data.
// The CLI's `--mappings` demo, the tests and bench/expressions use them; src/config presets own the full
// mapping definitions (matching, create-only flags) that the sync engine runs.

export interface SeedMapping {
  /** Target attribute path as the vendor guide writes it. */
  readonly target: string;
  /** An expression in Entra's language; a direct mapping is written as `[sourceAttribute]`. */
  readonly expression: string;
}

/** DocuWare's required user mappings ("How to integrate Azure Entra to DocuWare User provisioning"). */
export const DOCUWARE_USER_MAPPINGS: readonly SeedMapping[] = Object.freeze([
  { target: 'userName', expression: 'Item(Split([userPrincipalName], "@"), 1)' },
  { target: 'active', expression: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")' },
  { target: 'emails[type eq "work"].value', expression: 'Coalesce([mail],[userPrincipalName])' },
  { target: 'externalId', expression: '[objectId]' },
]);

/** Document360's role mapping: job title decides User (isTeamAccount True) or Reader (False). */
export const DOCUMENT360_USER_MAPPINGS: readonly SeedMapping[] = Object.freeze([
  { target: 'urn:ietf:params:scim:schemas:extension:document360:2.0:User:isTeamAccount', expression: 'Switch([jobTitle], "False", "Manager", "True", "Senior Manager", "True", "Team Lead", "True")' },
]);

export const SEED_MAPPING_SETS: Readonly<Record<string, readonly SeedMapping[]>> = Object.freeze({
  docuware: DOCUWARE_USER_MAPPINGS,
  document360: DOCUMENT360_USER_MAPPINGS,
});
