// SCIM schema definitions (RFC 7643 §4, §8.7) used three ways: served at /Schemas, and driving how the
// simulator canonicalises attribute names, coerces legacy "True"/"False" strings and compares values
// (caseExact) — so what the server advertises is what it does.

import { ScimError } from './errors.js';

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  document360: 'urn:ietf:params:scim:schemas:extension:document360:2.0:User',
  entraGroup: 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  bulkRequest: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  bulkResponse: 'urn:ietf:params:scim:api:messages:2.0:BulkResponse',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description?: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

const str = (name: string, extra: Partial<AttributeDef> = {}): AttributeDef => ({ name, type: 'string', multiValued: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra });
const bool = (name: string, extra: Partial<AttributeDef> = {}): AttributeDef => ({ name, type: 'boolean', multiValued: false, mutability: 'readWrite', returned: 'default', ...extra });
const multi = (name: string, subAttributes: AttributeDef[], extra: Partial<AttributeDef> = {}): AttributeDef => ({ name, type: 'complex', multiValued: true, mutability: 'readWrite', returned: 'default', subAttributes, ...extra });
const typedValues = (types: string[]): AttributeDef[] => [str('value'), str('display'), str('type', { canonicalValues: types }), bool('primary')];

const userCore: SchemaDef = {
  id: URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', { required: true, uniqueness: 'server' }),
    { name: 'name', type: 'complex', multiValued: false, mutability: 'readWrite', returned: 'default', subAttributes: [str('formatted'), str('familyName'), str('givenName'), str('middleName'), str('honorificPrefix'), str('honorificSuffix')] },
    str('displayName'),
    str('nickName'),
    str('profileUrl', { type: 'reference', referenceTypes: ['external'] }),
    str('title'),
    str('userType'),
    str('preferredLanguage'),
    str('locale'),
    str('timezone'),
    bool('active'),
    str('password', { mutability: 'writeOnly', returned: 'never', caseExact: true }),
    multi('emails', typedValues(['work', 'home', 'other'])),
    multi('phoneNumbers', typedValues(['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
    multi('ims', typedValues(['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'])),
    multi('photos', typedValues(['photo', 'thumbnail'])),
    multi('addresses', [str('formatted'), str('streetAddress'), str('locality'), str('region'), str('postalCode'), str('country'), str('type', { canonicalValues: ['work', 'home', 'other'] }), bool('primary')]),
    multi('groups', [str('value', { mutability: 'readOnly', caseExact: true }), str('$ref', { type: 'reference', mutability: 'readOnly', referenceTypes: ['Group'] }), str('display', { mutability: 'readOnly' }), str('type', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] })], { mutability: 'readOnly' }),
    multi('entitlements', typedValues([])),
    multi('roles', typedValues([])),
    multi('x509Certificates', typedValues([])),
  ],
};

const enterpriseUser: SchemaDef = {
  id: URN.enterprise,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber'),
    str('costCenter'),
    str('organization'),
    str('division'),
    str('department'),
    { name: 'manager', type: 'complex', multiValued: false, mutability: 'readWrite', returned: 'default', subAttributes: [str('value', { caseExact: true }), str('$ref', { type: 'reference', referenceTypes: ['User'] }), str('displayName', { mutability: 'readOnly' })] },
  ],
};

const document360User: SchemaDef = {
  id: URN.document360,
  name: 'Document360User',
  description: 'Document360 account kind: true makes a team account (User), false or unset a Reader',
  attributes: [bool('isTeamAccount')],
};

const groupCore: SchemaDef = {
  id: URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', { required: true, uniqueness: 'server' }),
    multi('members', [str('value', { mutability: 'immutable', caseExact: true }), str('$ref', { type: 'reference', mutability: 'immutable', referenceTypes: ['User', 'Group'] }), str('display', { mutability: 'readOnly' }), str('type', { mutability: 'immutable', canonicalValues: ['User', 'Group'] })]),
  ],
};

export const SCHEMAS = { userCore, enterpriseUser, document360User, groupCore };

/** Attributes every resource has (RFC 7643 §3.1), outside any schema. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  str('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'global' }),
  str('externalId', { caseExact: true }),
  {
    name: 'meta', type: 'complex', multiValued: false, mutability: 'readOnly', returned: 'default',
    subAttributes: [str('resourceType', { mutability: 'readOnly' }), { name: 'created', type: 'dateTime', multiValued: false, mutability: 'readOnly' }, { name: 'lastModified', type: 'dateTime', multiValued: false, mutability: 'readOnly' }, str('location', { mutability: 'readOnly', type: 'reference' }), str('version', { mutability: 'readOnly', caseExact: true })],
  },
];

/** The schemas one resource type is built from: its core schema and the extensions a profile offers. */
export interface ResourceSchema {
  core: SchemaDef;
  extensions: SchemaDef[];
  /** Lower-cased attribute name → definition, core and common attributes. */
  byName: Map<string, AttributeDef>;
  /** Lower-cased extension URN → extension schema. */
  extensionByUrn: Map<string, SchemaDef>;
}

export function resourceSchema(core: SchemaDef, extensions: SchemaDef[]): ResourceSchema {
  const byName = new Map<string, AttributeDef>();
  for (const def of [...COMMON_ATTRIBUTES, ...core.attributes]) byName.set(def.name.toLowerCase(), def);
  return { core, extensions, byName, extensionByUrn: new Map(extensions.map((s) => [s.id.toLowerCase(), s])) };
}

export function findAttribute(defs: AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!defs) return undefined;
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

/** Definition of `attr` (inside extension `urn` when given) for a resource type. */
export function lookupAttribute(rs: ResourceSchema, urn: string | undefined, attr: string): AttributeDef | undefined {
  if (urn === undefined || urn.toLowerCase() === rs.core.id.toLowerCase()) return rs.byName.get(attr.toLowerCase());
  return findAttribute(rs.extensionByUrn.get(urn.toLowerCase())?.attributes, attr);
}

/**
 * Entra's legacy dialect sends booleans as "True"/"False" strings; Entra-tuned servers accept them, so do we.
 * Anything else that is not a boolean is a client bug worth a 400.
 */
export function coerceBoolean(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new ScimError(400, `${where} must be a boolean, got ${JSON.stringify(value)}`, 'invalidValue');
}

/** Canonical casing, boolean coercion and dropping of nulls for one attribute value (recursing into complex values). */
export function canonicalValue(def: AttributeDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    for (const item of items) {
      const v = canonicalSingle(def, item, where);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  if (Array.isArray(value)) {
    // Entra sends the manager reference as a one-element array; its targets take the element.
    if (value.length === 1) return canonicalSingle(def, value[0], where);
    throw new ScimError(400, `${where} is single-valued but an array was sent`, 'invalidValue');
  }
  return canonicalSingle(def, value, where);
}

function canonicalSingle(def: AttributeDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'boolean':
      return coerceBoolean(value, where);
    case 'complex': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        // A bare string for a multi-valued complex attribute means its `value` sub-attribute.
        if (def.multiValued && (typeof value === 'string' || typeof value === 'number')) return { value };
        throw new ScimError(400, `${where} must be an object`, 'invalidValue');
      }
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(value as Record<string, unknown>)) {
        const subDef = findAttribute(def.subAttributes, key);
        if (!subDef) continue; // unknown sub-attributes are ignored, as RFC 7644 §3.3 allows
        const v = canonicalValue(subDef, sub, `${where}.${subDef.name}`);
        if (v !== undefined) out[subDef.name] = v;
      }
      return out;
    }
    case 'integer':
    case 'decimal':
      if (typeof value !== 'number') throw new ScimError(400, `${where} must be a number`, 'invalidValue');
      return value;
    default:
      if (typeof value === 'object') throw new ScimError(400, `${where} must be a ${def.type}, got an object`, 'invalidValue');
      return typeof value === 'string' ? value : String(value);
  }
}
