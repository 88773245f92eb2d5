// Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas, built from the
// simulator's options and profile so a client that adapts to discovery sees what the server really does.

import type { ProfileBehaviour } from './profiles.js';
import { COMMON_ATTRIBUTES, SCHEMAS, URN, type SchemaDef } from './schema.js';

export interface DiscoverySettings {
  profile: ProfileBehaviour;
  patch: boolean;
  etag: boolean;
  bulk: { enabled: boolean; maxOperations: number; maxPayloadSize: number };
  maxResults: number;
  authSchemes: { type: string; name: string; description: string }[];
  baseUrl: () => string;
}

export function serviceProviderConfig(s: DiscoverySettings): Record<string, unknown> {
  return {
    schemas: [URN.serviceProviderConfig],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: s.patch },
    bulk: { supported: s.bulk.enabled, maxOperations: s.bulk.enabled ? s.bulk.maxOperations : 0, maxPayloadSize: s.bulk.enabled ? s.bulk.maxPayloadSize : 0 },
    filter: { supported: true, maxResults: s.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: s.etag },
    authenticationSchemes: s.authSchemes,
    meta: { resourceType: 'ServiceProviderConfig', location: `${s.baseUrl()}/ServiceProviderConfig` },
  };
}

export function resourceTypes(s: DiscoverySettings): Record<string, unknown>[] {
  return [
    {
      schemas: [URN.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: URN.user,
      schemaExtensions: s.profile.userExtensions.map((e) => ({ schema: e.id, required: false })),
      meta: { resourceType: 'ResourceType', location: `${s.baseUrl()}/ResourceTypes/User` },
    },
    {
      schemas: [URN.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: URN.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${s.baseUrl()}/ResourceTypes/Group` },
    },
  ];
}

export function schemas(s: DiscoverySettings): Record<string, unknown>[] {
  const render = (schema: SchemaDef, name = schema.name): Record<string, unknown> => ({
    schemas: [URN.schema],
    id: schema.id,
    name,
    description: schema.description,
    attributes: schema === SCHEMAS.userCore || schema === SCHEMAS.groupCore ? [...COMMON_ATTRIBUTES.filter((a) => a.name === 'externalId'), ...schema.attributes] : schema.attributes,
    meta: { resourceType: 'Schema', location: `${s.baseUrl()}/Schemas/${schema.id}` },
  });
  return [render(SCHEMAS.userCore, s.profile.userSchemaName), ...s.profile.userExtensions.map((e) => render(e)), render(SCHEMAS.groupCore)];
}
