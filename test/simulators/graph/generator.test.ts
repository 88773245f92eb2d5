// The deterministic tenant generator: same seed, same tenant; the awkward data downstream code must survive.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';

let sims: GraphSimulator[] = [];
const start = async (seed: number) => {
  const sim = await startGraphSimulator({ tenant: { seed, users: 400, groups: 10, membersPerGroup: 20, nestedGroups: 3, assignedGroups: 4, assignedUserFraction: 0.1 } });
  sims.push(sim);
  return sim;
};

let a: GraphSimulator;

beforeAll(async () => {
  a = await start(42);
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

test('the same seed gives the same users, groups, memberships and assignments; another seed does not', async () => {
  const b = await start(42);
  const c = await start(43);
  expect(b.tenant.users()).toEqual(a.tenant.users());
  expect(b.tenant.groups()).toEqual(a.tenant.groups());
  expect(b.tenant.assignments()).toEqual(a.tenant.assignments());
  expect(b.tenant.groups().map((g) => b.tenant.members(g.id))).toEqual(a.tenant.groups().map((g) => a.tenant.members(g.id)));
  expect(c.tenant.users().map((u) => u.id)).not.toEqual(a.tenant.users().map((u) => u.id));
});

test('names with diacritics, apostrophes, double quotes and non-Latin letters; unique UPNs and ids', () => {
  const users = a.tenant.users();
  expect(users).toHaveLength(400);
  const names = users.map((u) => u.displayName ?? '');
  expect(names.some((n) => /[éëøæåöüç]/i.test(n))).toBe(true);
  expect(names.some((n) => n.includes("'"))).toBe(true);
  expect(names.some((n) => n.includes('"'))).toBe(true);
  expect(names.some((n) => /[\u0400-\u04ff]/.test(n))).toBe(true);
  expect(names.some((n) => /[\u4e00-\u9fff]/.test(n))).toBe(true);
  expect(new Set(users.map((u) => u.userPrincipalName.toLowerCase())).size).toBe(400);
  expect(new Set(users.map((u) => u.id)).size).toBe(400);
  for (const u of users) expect(u.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // UPNs stay ASCII even when the name is not, as Entra requires.
  for (const u of users) expect(u.userPrincipalName).toMatch(/^[\x20-\x7e]+$/);
});

test('guests with #EXT# UPNs, users without mail, disabled accounts, and the job titles filters test for', () => {
  const users = a.tenant.users();
  const guests = users.filter((u) => u.userType === 'Guest');
  expect(guests.length).toBeGreaterThan(0);
  for (const g of guests) {
    expect(g.userPrincipalName).toMatch(/^[^#]+_[^#]+#EXT#@contoso\.onmicrosoft\.com$/);
    expect(g.mail).not.toBeNull();
  }
  expect(users.some((u) => u.userType === 'Member' && u.mail === null)).toBe(true);
  expect(users.some((u) => !u.accountEnabled)).toBe(true);
  const titles = new Set(users.map((u) => u.jobTitle));
  for (const title of ['Manager', 'Senior Manager', 'Team Lead', null]) expect(titles.has(title)).toBe(true);
  expect(users.some((u) => typeof u[`extension_${a.extensionAppId}_costCenter`] === 'string')).toBe(true);
  expect(users.filter((u) => u.manager).length).toBeGreaterThan(300);
});

test('groups have K members and a nesting chain; users and groups are assigned, plus one service principal', () => {
  const groups = a.tenant.groups();
  expect(groups).toHaveLength(10);
  for (let i = 0; i < groups.length; i++) {
    const members = a.tenant.members(groups[i]!.id);
    const nested = i < 3 ? 1 : 0;
    expect(members).toHaveLength(20 + nested);
    if (nested) expect(members).toContain(groups[i + 1]!.id);
  }
  const assignments = a.tenant.assignments();
  expect(assignments.filter((x) => x.principalType === 'Group').map((x) => x.principalId)).toEqual(groups.slice(0, 4).map((g) => g.id));
  const direct = assignments.filter((x) => x.principalType === 'User').length;
  expect(direct).toBeGreaterThan(20);
  expect(direct).toBeLessThan(70);
  expect(assignments.filter((x) => x.principalType === 'ServicePrincipal')).toHaveLength(1);
});
