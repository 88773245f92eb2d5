// SCIM wire forms from JSON fixture tables: PATCH operations from a field diff, escaped and encoded filters,
// and membership chunks. This is where other SCIM clients' bugs live.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AttributeChange } from '../../src/targets/connector.js';
import { buildEqFilter, type FilterValue } from '../../src/targets/scim/path.js';
import { addMembersOperations, buildPatchOperations, chunk, removeMembersOperations, type ScimDialect } from '../../src/targets/scim/patch.js';
import { readScimPath, toScimResource, flattenScimResource } from '../../src/targets/scim/resource.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/targets/${name}`, import.meta.url), 'utf8')) as T;
}

interface PatchCase { name: string; dialect: ScimDialect; changes: AttributeChange[]; operations: unknown[] }
interface FilterCase { name: string; path: string; value: FilterValue; dialect: ScimDialect; filter: string; query: string }
interface ChunkCase { name: string; change: 'add' | 'remove'; dialect: ScimDialect; members: number; chunkSize: number; requests: { ops: number; values: number }[] }

describe('PATCH builder', () => {
  it.each(fixture<PatchCase[]>('patch-builder.json'))('$name', ({ changes, dialect, operations }) => {
    expect(buildPatchOperations(changes, dialect)).toEqual(operations);
  });
});

describe('filter escaping', () => {
  it.each(fixture<FilterCase[]>('filter-escaping.json'))('$name', ({ path, value, dialect, filter, query }) => {
    const built = buildEqFilter(path, value, dialect);
    expect(built).toBe(filter);
    expect(encodeURIComponent(built)).toBe(query);
  });

  it('refuses an attribute path that is not a SCIM path', () => {
    expect(() => buildEqFilter('userName pr or userName', 'x')).toThrow(/invalid SCIM attribute path/);
  });
});

describe('membership chunks', () => {
  it.each(fixture<ChunkCase[]>('membership-chunks.json'))('$name', ({ change, dialect, members, chunkSize, requests }) => {
    const ids = Array.from({ length: members }, (_, i) => `user-${i}`);
    const sent = chunk(ids, chunkSize).map((c) => (change === 'add' ? addMembersOperations(c, dialect) : removeMembersOperations(c, dialect)));
    expect(sent.map((ops) => ({ ops: ops.length, values: ops.reduce((n, o) => n + (Array.isArray(o.value) ? o.value.length : 0), 0) }))).toEqual(requests);
    for (const ops of sent) {
      for (const op of ops) {
        // Never a remove-all: every remove names its member in a filter or a value.
        if (op.op.toLowerCase() === 'remove') expect(op.path === 'members' ? Array.isArray(op.value) && op.value.length > 0 : /^members\[value eq ".+"\]$/.test(op.path!)).toBe(true);
        expect(op.op.toLowerCase()).not.toBe('replace');
      }
    }
  });
});

describe('resource translation', () => {
  const attributes = {
    userName: 'alice',
    active: true,
    'name.givenName': 'Alice',
    'emails[type eq "work"].value': 'a@x',
    'emails[type eq "work"].primary': true,
    'phoneNumbers[type eq "mobile"].value': '+1',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'R&D',
    'urn:ietf:params:scim:schemas:extension:document360:2.0:User:isTeamAccount': false,
    title: null,
  };

  it('builds nested objects, typed entries, extension objects and lists every schema used', () => {
    expect(toScimResource('user', attributes)).toEqual({
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        'urn:ietf:params:scim:schemas:extension:document360:2.0:User',
      ],
      userName: 'alice',
      active: true,
      name: { givenName: 'Alice' },
      emails: [{ type: 'work', value: 'a@x', primary: true }],
      phoneNumbers: [{ type: 'mobile', value: '+1' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' },
      'urn:ietf:params:scim:schemas:extension:document360:2.0:User': { isTeamAccount: false },
    });
  });

  it('reads a resource back into the same paths, whatever casing the server uses', () => {
    const resource = toScimResource('user', attributes);
    const { title: _title, ...expected } = attributes;
    expect(flattenScimResource({ ...resource, id: '1', meta: { version: 'W/"1"' } })).toEqual(expected);
    expect(readScimPath({ Emails: [{ Type: 'Work', Value: 'a@x' }] }, 'emails[type eq "work"].value')).toBe('a@x');
  });
});
