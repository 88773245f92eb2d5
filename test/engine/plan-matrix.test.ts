// The event → action matrix, as table tests over plain data (fixtures in test/fixtures/engine/plan-*.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planObject, planOptions } from '../../src/engine/plan.js';
import type { DesiredObject, Link } from '../../src/engine/types.js';

interface Case {
  name: string;
  desired?: Partial<DesiredObject>;
  link?: Partial<Link> | null;
  options?: Parameters<typeof planOptions>[0];
  expect: Record<string, unknown>[];
}

function load(file: string): Case[] {
  return (JSON.parse(readFileSync(new URL(`../fixtures/engine/${file}`, import.meta.url), 'utf8')) as { cases: Case[] }).cases;
}

const userAttributes = { userName: 'ada', active: true, displayName: 'Ada Lovelace', 'emails[type eq "work"].value': 'ada@contoso.com' };

function user(c: Case): [DesiredObject, Link | undefined] {
  const desired: DesiredObject = {
    type: 'user', sourceId: 'u1', displayName: 'ada@contoso.com', scope: 'inScope',
    attributes: userAttributes, createOnly: [], match: [{ path: 'userName', value: 'ada' }], ...c.desired,
  };
  const link: Link | undefined = c.link === null ? undefined : {
    target: 'wiki', type: 'user', sourceId: 'u1', targetId: 'T1', status: 'active', written: userAttributes, hash: 'h', updatedAt: '2026-01-01T00:00:00Z', ...c.link,
  };
  return [desired, link];
}

function group(c: Case): [DesiredObject, Link | undefined] {
  const desired: DesiredObject = {
    type: 'group', sourceId: 'g1', displayName: 'Finance', scope: 'inScope',
    attributes: { displayName: 'Finance' }, createOnly: [], match: [{ path: 'displayName', value: 'Finance' }], members: ['u1'], ...c.desired,
  };
  const link: Link | undefined = c.link === null ? undefined : {
    target: 'wiki', type: 'group', sourceId: 'g1', targetId: 'G1', status: 'active', written: { displayName: 'Finance' }, hash: 'h', updatedAt: '2026-01-01T00:00:00Z', members: ['u1'], ...c.link,
  };
  return [desired, link];
}

describe('users: event → action matrix', () => {
  for (const c of load('plan-users.json')) {
    it(c.name, () => {
      const [desired, link] = user(c);
      const ops = planObject(desired, link, planOptions(c.options));
      expect(ops).toHaveLength(c.expect.length);
      expect(ops).toMatchObject(c.expect);
      for (const op of ops) expect(op).toMatchObject({ type: 'user', sourceId: 'u1', displayName: 'ada@contoso.com' });
    });
  }
});

describe('groups: event → action matrix', () => {
  for (const c of load('plan-groups.json')) {
    it(c.name, () => {
      const [desired, link] = group(c);
      const ops = planObject(desired, link, planOptions(c.options));
      expect(ops).toHaveLength(c.expect.length);
      expect(ops).toMatchObject(c.expect);
    });
  }
});
