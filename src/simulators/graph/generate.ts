// Deterministic tenant data: the same seed always gives the same users, groups, memberships and assignments.
// Names are deliberately awkward for downstream code: diacritics, apostrophes, double quotes, non-Latin
// scripts, B2B guests with #EXT# UPNs, users without mail, disabled accounts, and the exact job titles that
// scoping filters in the vendor guides test for ("Manager", "Senior Manager", "Team Lead").
import { SeededRandom } from './random.js';
import type { Tenant } from './tenant.js';
import type { GenerateTenantOptions, GraphUser } from './types.js';

/** [givenName, ascii alias]: the alias is what a UPN would use for a name an ASCII fold cannot produce. */
const GIVEN_NAMES: readonly (readonly [string, string])[] = [
  ['Avery', 'avery'], ['José', 'jose'], ['Zoë', 'zoe'], ['Chidi', 'chidi'], ['Dana', 'dana'], ['Farah', 'farah'],
  ['Gus', 'gus'], ['Ingrid', 'ingrid'], ['Björn', 'bjorn'], ['Siobhán', 'siobhan'], ['François', 'francois'],
  ['Łukasz', 'lukasz'], ['Dmitriy', 'dmitriy'], ['Дмитрий', 'dmitriy'], ['Анна', 'anna'], ['娜', 'na'], ['伟', 'wei'],
  ['Søren', 'soren'], ['Mårten', 'marten'], ['Noémie', 'noemie'], ['Priya', 'priya'], ['Aroha', 'aroha'],
  ['Kwame', 'kwame'], ['Yusuf', 'yusuf'], ['Mei', 'mei'], ['Olúwaseun', 'oluwaseun'], ['Hannah', 'hannah'],
  ['Mateo', 'mateo'], ['Ève', 'eve'], ['Ştefan', 'stefan'], ['Çağla', 'cagla'], ['Nguyễn', 'nguyen'],
  ['Bo', 'bo'], ['Émile', 'emile'], ['Aoife', 'aoife'], ['Jürgen', 'jurgen'], ['Robert "Bob"', 'robert'],
];

const SURNAMES: readonly (readonly [string, string])[] = [
  ['Quinn', 'quinn'], ['García', 'garcia'], ["O'Brien", 'obrien'], ['Okafor', 'okafor'], ['Petrović', 'petrovic'],
  ['Haddad', 'haddad'], ['Moreau', 'moreau'], ['Lindqvist', 'lindqvist'], ['Ærøskøbing', 'aeroskobing'],
  ['Müller', 'muller'], ["D'Angelo", 'dangelo'], ['Иванов', 'ivanov'], ['李', 'li'], ['王', 'wang'],
  ['Nakamura', 'nakamura'], ['Ó Súilleabháin', 'osuilleabhain'], ['Van der Berg', 'vanderberg'], ['Smith', 'smith'],
  ['Kowalski', 'kowalski'], ['Øberg', 'oberg'], ['Nørgaard', 'norgaard'], ['Hernández-López', 'hernandezlopez'],
  ['Mbeki', 'mbeki'], ['Singh', 'singh'], ['Ngata', 'ngata'], ['Dvořák', 'dvorak'], ['Šimić', 'simic'],
  ['Zając', 'zajac'], ['MacLeod', 'macleod'], ['Al-Sayed', 'alsayed'],
];

const JOB_TITLES: readonly (string | null)[] = [
  'Manager', 'Senior Manager', 'Team Lead', 'Engineer', 'Senior Engineer', 'Site Reliability Engineer',
  'Accountant', 'Controller', 'Head of Finance', 'Sales Representative', 'Account Manager', 'Designer',
  'Data Analyst', 'HR Business Partner', 'Support Specialist', 'Director', 'Intern', 'Product Owner',
  'Manager, Operations', 'Lead Engineer', null, null,
];

const DEPARTMENTS: readonly (string | null)[] = [
  'Finance', 'Platform', 'Sales', 'Marketing', 'Human Resources', 'Support', 'Legal', 'Research & Development',
  'Operations', 'Production', null,
];

const PLACES: readonly { city: string; country: string; usageLocation: string; language: string; office: string }[] = [
  { city: 'Ærøskøbing', country: 'Denmark', usageLocation: 'DK', language: 'da-DK', office: 'Havnen 3' },
  { city: 'Zürich', country: 'Switzerland', usageLocation: 'CH', language: 'de-CH', office: 'ZRH-2' },
  { city: 'São Paulo', country: 'Brazil', usageLocation: 'BR', language: 'pt-BR', office: 'SP Paulista' },
  { city: 'Kraków', country: 'Poland', usageLocation: 'PL', language: 'pl-PL', office: 'KRK-1' },
  { city: 'Seattle', country: 'United States', usageLocation: 'US', language: 'en-US', office: 'SEA 18/2201' },
  { city: 'Москва', country: 'Russia', usageLocation: 'RU', language: 'ru-RU', office: 'MSK-4' },
  { city: '北京', country: 'China', usageLocation: 'CN', language: 'zh-CN', office: 'PEK-7' },
  { city: 'Dublin', country: 'Ireland', usageLocation: 'IE', language: 'en-IE', office: "St. Stephen's Green" },
  { city: 'Montréal', country: 'Canada', usageLocation: 'CA', language: 'fr-CA', office: 'MTL 5e étage' },
  { city: 'Lagos', country: 'Nigeria', usageLocation: 'NG', language: 'en-NG', office: 'Victoria Island' },
];

const GROUP_TOPICS: readonly string[] = [
  'App-Users', 'App-Admins', 'Contractors', 'Finance', 'Sales EMEA', 'Support Tier 2', 'R&D "Skunkworks"',
  "Mgmt O'Neill", 'Zürich Office', 'Проект Альфа', '研发', 'All Staff',
];

/** For each name, the index of the first name with the same alias. */
const firstWithAlias = (names: readonly (readonly [string, string])[]) => names.map(([, alias]) => names.findIndex(([, a]) => a === alias));
const GIVEN_ALIAS_KEY = firstWithAlias(GIVEN_NAMES);
const SURNAME_ALIAS_KEY = firstWithAlias(SURNAMES);

/** Shared by every user without business phones; updates replace the array, never push into it. */
const NO_PHONES: string[] = Object.freeze([]) as unknown as string[];

export const TENANT_DOMAIN = 'contoso.example';
export const GUEST_HOME_DOMAIN = 'contoso.onmicrosoft.com';

export interface TenantGenerationResult {
  userIds: string[];
  groupIds: string[];
}

/** The resolved generator options, with the defaults filled in. */
export function resolveGenerateOptions(options: GenerateTenantOptions = {}): Required<Omit<GenerateTenantOptions, 'largeGroupMembers'>> & { largeGroupMembers: number } {
  return {
    seed: options.seed ?? 1,
    users: options.users ?? 20,
    groups: options.groups ?? 4,
    membersPerGroup: options.membersPerGroup ?? 5,
    nestedGroups: options.nestedGroups ?? 1,
    assignedUserFraction: options.assignedUserFraction ?? 0.25,
    assignedGroups: options.assignedGroups ?? 2,
    largeGroupMembers: options.largeGroupMembers ?? 0,
  };
}

/**
 * Fill `tenant` with generated objects. `extensionAppId` names the directory extension (`extension_{it}_costCenter`).
 * 100,000 users take well under a second; nothing is written to the change log (an initial round reads state).
 */
export function generateTenant(
  tenant: Tenant,
  options: GenerateTenantOptions,
  random: SeededRandom,
  extensionAppId: string,
  daemonServicePrincipal: { id: string; displayName: string },
): TenantGenerationResult {
  const o = resolveGenerateOptions(options);
  const costCenter = `extension_${extensionAppId}_costCenter` as const;
  const baseTime = Date.UTC(2024, 0, 15, 8, 0, 0);
  // Memory matters at 100k users: shared strings wherever values repeat (names, dates, cost centres, the empty
  // phone list), one allocation per value that is really unique (id, UPN, alias, employee id, phone numbers).
  const sizes = GIVEN_NAMES.length * SURNAMES.length;
  const aliasCounts = new Uint32Array(sizes);
  const displayNames: (string | undefined)[] = new Array<string | undefined>(sizes);
  const reversedNames: (string | undefined)[] = new Array<string | undefined>(sizes);
  const createdTimes: string[] = [];
  const costCenters: string[] = [];
  const userIds: string[] = [];

  for (let i = 0; i < o.users; i++) {
    const gi = random.int(GIVEN_NAMES.length);
    const si = random.int(SURNAMES.length);
    const [given, givenAlias] = GIVEN_NAMES[gi]!;
    const [surname, surnameAlias] = SURNAMES[si]!;
    const nameKey = gi * SURNAMES.length + si;
    // Different names can share an alias (Dmitriy, Дмитрий): count per alias pair so UPNs stay unique.
    const seen = aliasCounts[GIVEN_ALIAS_KEY[gi]! * SURNAMES.length + SURNAME_ALIAS_KEY[si]!]!++;
    const alias = seen === 0 ? `${givenAlias}.${surnameAlias}` : `${givenAlias}.${surnameAlias}${seen + 1}`;
    const place = random.pick(PLACES);
    const guest = i > 0 && random.chance(0.04);
    const noMail = !guest && random.chance(0.06);
    // Roughly one in ten users is a people manager others report to; everyone after the first may have one.
    const manager = i > 0 && random.chance(0.85) ? userIds[random.int(Math.min(i, Math.max(1, Math.ceil(i / 10))))] ?? null : null;
    const guestDomain = 'fabrikam.example';
    const upn = guest ? `${alias}_${guestDomain}#EXT#@${GUEST_HOME_DOMAIN}` : `${alias}@${TENANT_DOMAIN}`;
    const reversed = random.chance(0.03);
    const displayName = reversed
      ? (reversedNames[nameKey] ??= `${surname}, ${given}`)
      : (displayNames[nameKey] ??= `${given} ${surname}`);
    const minute = Math.floor(i / 100);
    const user: GraphUser = {
      id: random.guid(),
      userPrincipalName: upn,
      displayName,
      givenName: given,
      surname,
      mail: guest ? `${alias}@${guestDomain}` : noMail ? null : upn,
      mailNickname: guest ? `${alias}_${guestDomain}#EXT#` : alias,
      jobTitle: random.pick(JOB_TITLES),
      department: random.pick(DEPARTMENTS),
      accountEnabled: !random.chance(0.05),
      employeeId: guest ? null : `E${String(10000 + i).padStart(6, '0')}`,
      companyName: guest ? 'Fabrikam' : 'Contoso',
      officeLocation: random.chance(0.8) ? place.office : null,
      city: place.city,
      country: place.country,
      usageLocation: place.usageLocation,
      preferredLanguage: random.chance(0.7) ? place.language : null,
      mobilePhone: random.chance(0.6) ? `+1 555 ${String(random.int(10000000)).padStart(7, '0')}` : null,
      businessPhones: random.chance(0.5) ? [`+1 425 555 ${String(random.int(10000)).padStart(4, '0')}`] : NO_PHONES,
      userType: guest ? 'Guest' : 'Member',
      createdDateTime: (createdTimes[minute] ??= new Date(baseTime + minute * 60_000).toISOString().replace('.000Z', 'Z')),
      manager,
    };
    // Always set (undefined when absent) so every user keeps one object shape.
    const cc = !guest && random.chance(0.7) ? random.int(9000) : -1;
    user[costCenter] = cc < 0 ? undefined : (costCenters[cc] ??= `CC-${1000 + cc}`);
    tenant.seedUser(user);
    userIds.push(user.id);
  }

  const groupIds: string[] = [];
  for (let g = 0; g < o.groups; g++) {
    const topic = GROUP_TOPICS[g % GROUP_TOPICS.length]!;
    const round = Math.floor(g / GROUP_TOPICS.length);
    const displayName = round === 0 ? `sg-${topic}` : `sg-${topic} ${round + 1}`;
    const wanted = Math.min(o.users, g === 0 && o.largeGroupMembers > 0 ? o.largeGroupMembers : o.membersPerGroup);
    const members = new Set<string>();
    // Random distinct picks; for very dense groups fall back to a contiguous run so this stays linear.
    if (wanted * 2 > o.users) {
      const start = random.int(Math.max(1, o.users));
      for (let k = 0; k < wanted; k++) members.add(userIds[(start + k) % o.users]!);
    } else {
      while (members.size < wanted) members.add(userIds[random.int(o.users)]!);
    }
    const id = random.guid();
    tenant.seedGroup(
      {
        id,
        displayName,
        description: random.chance(0.7) ? `Members of ${displayName}` : null,
        mailNickname: displayName
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, '')
          .replace(/[^A-Za-z0-9]+/g, '-')
          .toLowerCase(),
        mail: null,
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        createdDateTime: new Date(baseTime - (o.groups - g) * 3_600_000).toISOString().replace('.000Z', 'Z'),
      },
      [...members],
    );
    groupIds.push(id);
  }

  // Nesting: group i+1 is a member of group i, for the first `nestedGroups` groups (a chain, as sg-Contractors in sg-App-Users).
  for (let n = 0; n < o.nestedGroups && n + 1 < groupIds.length; n++) {
    const parent = tenant.entry(groupIds[n]!);
    const child = groupIds[n + 1]!;
    if (parent?.kind === 'group' && !parent.memberIndex.has(child)) {
      parent.memberIndex.set(child, parent.members.length);
      parent.members.push(child);
    }
  }

  const created = (k: number) => new Date(baseTime + 86_400_000 + k * 1000).toISOString().replace('.000Z', '.0000000Z');
  const roles = Object.values(tenant.identity.appRoleIds);
  let k = 0;
  for (let g = 0; g < Math.min(o.assignedGroups, groupIds.length); g++) {
    tenant.seedAssignment(groupIds[g]!, roles[g % roles.length]!, created(k++));
  }
  for (const id of userIds) {
    if (random.chance(o.assignedUserFraction)) tenant.seedAssignment(id, roles[k % roles.length]!, created(k++));
  }
  // Entra also lists service principals assigned to the app; readers must skip them.
  tenant.seedServicePrincipal(daemonServicePrincipal.id, daemonServicePrincipal.displayName);
  tenant.seedAssignment(daemonServicePrincipal.id, roles[0]!, created(k++));

  return { userIds, groupIds };
}
