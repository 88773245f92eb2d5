// Options of a REST target: an on-prem app with a JSON API but no SCIM. Each operation is described as a
// request (method, path template, body template) and a way to read the answer (JSON pointers).
//
// Templates: `{{path}}` is replaced by the mapped attribute at that target path (`{{userName}}`,
// `{{emails[type eq "work"].value}}`), plus `{{id}}` (target id), `{{value}}` (lookup value),
// `{{memberId}}`, `{{offset}}`, `{{limit}}`, `{{page}}`. In a path the value is URL-encoded. In a body, a
// string that is exactly one placeholder keeps the value's JSON type (boolean stays boolean); a placeholder
// inside a longer string is turned into text. A body field whose placeholder has no value is left out.
import { z } from 'zod';
import { targetConnectionShape } from '../scim/options.js';

const jsonPointer = z.string().regex(/^(\/.*)?$/, 'a JSON pointer is empty or starts with "/"');

type JsonTemplate = string | number | boolean | null | JsonTemplate[] | { [key: string]: JsonTemplate };
const jsonTemplateSchema: z.ZodType<JsonTemplate> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonTemplateSchema),
    z.record(z.string(), jsonTemplateSchema),
  ]),
);

export const restRequestSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** Relative to baseUrl, e.g. `/users/{{id}}` or `/users?login={{value}}`. */
  path: z.string().min(1),
  body: jsonTemplateSchema.optional(),
  /** Where the object is in the answer (create, get), e.g. `/user` for `{"user": {...}}`; default: the answer itself. */
  objectPointer: jsonPointer.optional(),
  /** Where the id is inside the object or inside each item (default: the object type's idPointer). */
  idPointer: jsonPointer.optional(),
  /** Where the array of results is in the response (lookup, list, listMembers); empty = the body itself. */
  itemsPointer: jsonPointer.optional(),
});
export type RestRequestOptions = z.infer<typeof restRequestSchema>;

const listRequestSchema = restRequestSchema.extend({
  /** Objects per page when the path uses {{offset}}, {{page}} or {{limit}}; paging stops at a short page. */
  pageSize: z.int().min(1).max(10_000).default(100),
  /** `{{page}}` of the first page. */
  firstPage: z.int().min(0).default(1),
});

const objectOperationsShape = {
  /** Look up by matching attribute: one request per attribute path it can match on (`userName`, `externalId`). */
  lookup: z.record(z.string(), restRequestSchema).default({}),
  get: restRequestSchema.optional(),
  list: listRequestSchema.optional(),
  create: restRequestSchema.optional(),
  /** Body evaluated over the whole desired object (REST APIs rarely take field-level patches). */
  update: restRequestSchema.optional(),
  delete: restRequestSchema.optional(),
  /** Read the target's values back into mapping paths: target path → JSON pointer into one object. */
  attributes: z.record(z.string(), jsonPointer).default({}),
  /** Default pointer to an object's id in responses. */
  idPointer: jsonPointer.default('/id'),
};

export const restUserOperationsSchema = z.object({
  ...objectOperationsShape,
  /** Without these, disable/enable is an update of the `active` attribute. */
  disable: restRequestSchema.optional(),
  enable: restRequestSchema.optional(),
});

export const restGroupOperationsSchema = z.object({
  ...objectOperationsShape,
  /** One request per member; `{{memberId}}` is the member's target id. */
  addMember: restRequestSchema.optional(),
  removeMember: restRequestSchema.optional(),
  /** Items are member objects; their id is read with idPointer (default `/id`), or the item itself if a string. */
  listMembers: restRequestSchema.optional(),
});

export const restTargetOptionsSchema = z.object({
  ...targetConnectionShape,
  operations: z.object({
    users: restUserOperationsSchema.prefault({}),
    groups: restGroupOperationsSchema.prefault({}),
  }),
  /** Path probed by testConnection (GET). */
  healthPath: z.string().min(1).optional(),
  notFoundOnUpdate: z.enum(['recreate', 'unlink']).default('recreate'),
});

export type RestTargetOptions = z.infer<typeof restTargetOptionsSchema>;
export type RestTargetOptionsInput = z.input<typeof restTargetOptionsSchema>;
export type RestUserOperations = z.infer<typeof restUserOperationsSchema>;
export type RestGroupOperations = z.infer<typeof restGroupOperationsSchema>;
