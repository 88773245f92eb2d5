// users/delta over HTTPS: the initial round's wire shape (graph-samples 01–04), incremental rounds for each
// kind of change in default and minimal mode (05–06), no changes (07), $deltatoken=latest (08), expiry (32).
import type { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';
import { accessToken, deltaRound, graphGet, sample, trustingAgent, type Item } from './helpers.js';

let sim: GraphSimulator;
let agent: Agent;
let token: string;
const SELECT = 'displayName,givenName,surname,userPrincipalName,mail,jobTitle,department,accountEnabled,userType,manager';

beforeEach(async () => {
  sim = await startGraphSimulator({ tenant: { users: 30, groups: 2, seed: 7 }, pageSize: 8 });
  agent = trustingAgent(sim.caPem);
  token = await accessToken(sim, agent);
});

afterEach(async () => {
  await sim.close();
  await agent.close();
});

const byId = (items: Item[]) => new Map(items.map((i) => [i.id as string, i]));

describe('initial round', () => {
  test('pages carry exactly one absolute link on the simulator host; the first echoes $select in @odata.context', async () => {
    const round = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    expect(round.pages).toHaveLength(4); // 30 users, 8 per page
    const [first, ...rest] = round.pages;
    expect(Object.keys(first!.body)).toEqual(['@odata.context', '@odata.nextLink', 'value']);
    expect(Object.keys(first!.body)).toEqual(Object.keys(sample('01-users-delta-initial-page1')));
    expect(first!.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users(${SELECT})`);
    expect(rest[0]!.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users`);
    for (const page of round.pages.slice(0, -1)) {
      expect(page.body['@odata.nextLink']).toMatch(new RegExp(`^${sim.graphBaseUrl}/v1.0/users/delta\\?\\$skiptoken=[A-Za-z0-9_-]+$`));
      expect(page.body).not.toHaveProperty('@odata.deltaLink');
    }
    const last = round.pages.at(-1)!.body;
    expect(last['@odata.deltaLink']).toMatch(new RegExp(`^${sim.graphBaseUrl}/v1.0/users/delta\\?\\$deltatoken=[A-Za-z0-9_-]+$`));
    expect(last).not.toHaveProperty('@odata.nextLink');
    expect(round.pages.at(-1)!.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('every user comes once, with selected properties only; never-set properties are left out, not null', async () => {
    const round = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const users = sim.tenant.users();
    expect(round.items.map((i) => i.id).sort()).toEqual(users.map((u) => u.id).sort());
    const allowed = new Set([...SELECT.split(','), 'id', 'manager@delta']);
    allowed.delete('manager');
    for (const item of round.items) {
      for (const [key, value] of Object.entries(item)) {
        expect(allowed.has(key), key).toBe(true);
        expect(value, `${key} of ${String(item.id)}`).not.toBeNull();
      }
      const user = sim.tenant.user(item.id as string)!;
      if (user.mail === null) expect(item).not.toHaveProperty('mail');
      if (user.manager) expect(item['manager@delta']).toEqual([{ '@odata.type': '#microsoft.graph.user', id: user.manager }]);
      else expect(item).not.toHaveProperty('manager@delta');
      expect(item.accountEnabled).toBe(user.accountEnabled);
    }
  });

  test('without $select the documented default set comes back', async () => {
    const round = await deltaRound(sim, agent, token, 'users/delta');
    const defaults = new Set(['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName']);
    for (const item of round.items) for (const key of Object.keys(item)) expect(defaults.has(key), key).toBe(true);
    expect(round.pages[0]!.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users`);
  });

  test('the SDK long form /users/microsoft.graph.delta() and Prefer: odata.maxpagesize work', async () => {
    const round = await deltaRound(sim, agent, token, 'users/microsoft.graph.delta()?$select=displayName', { Prefer: 'odata.maxpagesize=5' });
    expect(round.pages).toHaveLength(6);
    expect(round.items).toHaveLength(30);
  });

  test('$filter=id eq … returns just those users; $expand and attribute filters are rejected', async () => {
    const [a, b] = sim.tenant.users();
    const round = await deltaRound(sim, agent, token, `users/delta?$select=displayName&$filter=id eq '${a!.id}' or id eq '${b!.id}'`);
    expect(round.items.map((i) => i.id)).toEqual([a!.id, b!.id]);
    for (const bad of ['users/delta?$expand=manager', "users/delta?$filter=startswith(displayName,'A')"]) {
      const response = await graphGet(sim, agent, token, bad);
      expect(response.status).toBe(400);
      expect((response.body.error as Record<string, unknown>).code).toBe('Request_UnsupportedQuery');
    }
  });

  test('an unknown $select property is a 400 naming it', async () => {
    const response = await graphGet(sim, agent, token, 'users/delta?$select=displayName,favouriteColour');
    expect(response.status).toBe(400);
    expect((response.body.error as Record<string, unknown>).message).toContain("'favouriteColour'");
  });
});

describe('incremental rounds', () => {
  test('no changes: an empty page with a new deltaLink', async () => {
    const { deltaLink } = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const next = await deltaRound(sim, agent, token, deltaLink);
    expect(next.pages).toHaveLength(1);
    expect(next.items).toEqual([]);
    expect(next.deltaLink).toMatch(/\$deltatoken=/);
  });

  test('updates: default mode sends every set selected property, cleared ones as null; minimal only the changes', async () => {
    const { deltaLink } = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const users = sim.tenant.users();
    const u1 = users[0];
    const u2 = users.find((u) => u.department !== null && u.accountEnabled && u !== u1);
    const u3 = users.find((u) => u !== u1 && u !== u2);
    sim.tenant.updateUser(u1!.id, { jobTitle: 'Principal SRE' });
    sim.tenant.updateUser(u2!.id, { department: null, accountEnabled: false });
    sim.tenant.updateUser(u3!.id, { city: 'Nowhere' }); // not selected: must not show up

    const full = byId((await deltaRound(sim, agent, token, deltaLink)).items);
    expect([...full.keys()].sort()).toEqual([u1!.id, u2!.id].sort());
    expect(full.get(u1!.id)).toMatchObject({ jobTitle: 'Principal SRE', displayName: u1!.displayName, userPrincipalName: u1!.userPrincipalName });
    expect(full.get(u2!.id)).toMatchObject({ department: null, accountEnabled: false, userPrincipalName: u2!.userPrincipalName });

    const minimal = byId((await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' })).items);
    expect(minimal.get(u1!.id)).toEqual({ jobTitle: 'Principal SRE', id: u1!.id });
    expect(minimal.get(u2!.id)).toEqual({ department: null, accountEnabled: false, id: u2!.id });
  });

  test('several changes to one user in a round come back once, coalesced', async () => {
    const { deltaLink } = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const u = sim.tenant.users()[4]!;
    sim.tenant.updateUser(u.id, { jobTitle: 'Manager' });
    sim.tenant.updateUser(u.id, { surname: "O'Brien" });
    sim.tenant.updateUser(u.id, { jobTitle: 'Senior Manager' });
    const round = await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' });
    expect(round.items).toEqual([{ surname: "O'Brien", jobTitle: 'Senior Manager', id: u.id }]);
  });

  test('create, soft delete, restore and hard delete give a full object, @removed changed, a full object, @removed deleted', async () => {
    const first = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const [soft, hard] = sim.tenant.users();
    const gus = sim.tenant.createUser({ userPrincipalName: 'gus.moreau@contoso.example', displayName: 'Gus Moreau', givenName: 'Gus', surname: 'Moreau' });
    sim.tenant.softDeleteUser(soft!.id);
    sim.tenant.hardDeleteUser(hard!.id);
    const second = await deltaRound(sim, agent, token, first.deltaLink, { Prefer: 'return=minimal' });
    const items = byId(second.items);
    expect(items.get(gus.id)).toEqual({ displayName: 'Gus Moreau', givenName: 'Gus', surname: 'Moreau', userPrincipalName: 'gus.moreau@contoso.example', accountEnabled: true, userType: 'Member', id: gus.id });
    expect(items.get(soft!.id)).toEqual({ id: soft!.id, '@removed': { reason: 'changed' } });
    expect(items.get(hard!.id)).toEqual({ id: hard!.id, '@removed': { reason: 'deleted' } });

    sim.tenant.restoreUser(soft!.id);
    const third = await deltaRound(sim, agent, token, second.deltaLink, { Prefer: 'return=minimal' });
    // Restored: the full selected representation, no annotation, exactly like a new object.
    expect(third.items).toHaveLength(1);
    expect(third.items[0]).toMatchObject({ id: soft!.id, userPrincipalName: soft!.userPrincipalName });
    expect(third.items[0]).not.toHaveProperty('@removed');
  });

  test('manager changes come as manager@delta; a removed manager as an @removed entry', async () => {
    const { deltaLink } = await deltaRound(sim, agent, token, `users/delta?$select=${SELECT}`);
    const withManager = sim.tenant.users().find((u) => u.manager)!;
    const other = sim.tenant.users().find((u) => u.id !== withManager.id && u.id !== withManager.manager)!;
    sim.tenant.updateUser(withManager.id, { manager: null });
    sim.tenant.updateUser(other.id, { manager: withManager.id });
    const items = byId((await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' })).items);
    expect(items.get(withManager.id)).toEqual({
      id: withManager.id,
      'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: withManager.manager, '@removed': { reason: 'deleted' } }],
    });
    expect(items.get(other.id)).toEqual({ id: other.id, 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: withManager.id }] });
  });

  test('a deleted user shows up as @removed deleted in a later initial round too', async () => {
    const victim = sim.tenant.users()[3]!;
    sim.tenant.hardDeleteUser(victim.id);
    const round = await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
    expect(byId(round.items).get(victim.id)).toEqual({ id: victim.id, '@removed': { reason: 'deleted' } });
  });

  test('changes made while a round is being paged are replayed in the next round', async () => {
    const page1 = await graphGet(sim, agent, token, `users/delta?$select=${SELECT}`);
    const early = sim.tenant.users()[0]!; // already served on page 1
    sim.tenant.updateUser(early.id, { jobTitle: 'Team Lead' });
    let url = page1.body['@odata.nextLink'] as string;
    let deltaLink = '';
    while (url) {
      const page = await graphGet(sim, agent, token, url);
      url = page.body['@odata.nextLink'] as string;
      deltaLink = (page.body['@odata.deltaLink'] as string) ?? deltaLink;
    }
    const next = await deltaRound(sim, agent, token, deltaLink, { Prefer: 'return=minimal' });
    expect(next.items).toEqual([{ jobTitle: 'Team Lead', id: early.id }]);
  });
});

describe('special tokens', () => {
  test('$deltatoken=latest returns no objects, only a deltaLink that sees later changes', async () => {
    const latest = await graphGet(sim, agent, token, 'users/delta?$select=displayName,userPrincipalName,accountEnabled&$deltatoken=latest');
    expect(latest.body.value).toEqual([]);
    expect(Object.keys(latest.body)).toEqual(['@odata.context', '@odata.deltaLink', 'value']);
    expect(latest.body['@odata.context']).toBe(`${sim.graphBaseUrl}/v1.0/$metadata#users(displayName,userPrincipalName,accountEnabled)`);
    const u = sim.tenant.users()[2]!;
    sim.tenant.disableUser(u.id);
    const next = await deltaRound(sim, agent, token, latest.body['@odata.deltaLink'] as string, { Prefer: 'return=minimal' });
    expect(next.items).toEqual([{ accountEnabled: false, id: u.id }]);
  });

  test('expireDeltaTokens(): the deltaLink and an in-flight nextLink get 400 syncStateNotFound (graph-samples/32)', async () => {
    const first = await deltaRound(sim, agent, token, 'users/delta?$select=displayName');
    const inFlight = (await graphGet(sim, agent, token, 'users/delta?$select=displayName')).body['@odata.nextLink'] as string;
    sim.tenant.expireDeltaTokens();
    for (const url of [first.deltaLink, inFlight]) {
      const response = await graphGet(sim, agent, token, url);
      expect(response.status).toBe(400);
      const error = response.body.error as Record<string, unknown>;
      expect(error.code).toBe('syncStateNotFound');
      expect(error.message).toBe('The sync state generation is not found. The delta token is expired and data must be synchronized again.');
      expect(Object.keys(error.innerError as object)).toEqual(Object.keys((sample('32-error-delta-token-expired-400').error as Record<string, object>).innerError!));
    }
    // A fresh round works again.
    expect((await deltaRound(sim, agent, token, 'users/delta?$select=displayName')).items).toHaveLength(30);
  });

  test('a tampered token is refused, and $select may not be added to a nextLink', async () => {
    const page = await graphGet(sim, agent, token, 'users/delta?$select=displayName');
    const next = page.body['@odata.nextLink'] as string;
    expect((await graphGet(sim, agent, token, next.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).status).toBe(400);
    const withSelect = await graphGet(sim, agent, token, `${next}&$select=mail`);
    expect(withSelect.status).toBe(400);
    expect((withSelect.body.error as Record<string, unknown>).code).toBe('Request_UnsupportedQuery');
  });
});
