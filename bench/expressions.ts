// Benchmark: the DocuWare mapping set, compiled once, evaluated for 100,000 generated users.
// Prints users/s and ns per expression for several passes (best and median). A figure, not a test.
import { compileExpression } from '../src/expressions/index.js';
import { DOCUWARE_USER_MAPPINGS } from '../src/expressions/seed-mappings.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const PASSES = Number(process.env.BENCH_PASSES ?? 7);

function generateUsers(count: number): Record<string, unknown>[] {
  const users: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const name = `user${i.toString(36)}.${(i * 7919).toString(36)}`;
    users.push({
      objectId: `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      userPrincipalName: `${name}@contoso.com`,
      // A third of the users have no mail, so Coalesce falls back to the UPN.
      mail: i % 3 === 0 ? null : `${name}@mail.contoso.com`,
      // Graph gives a boolean; some callers pass Entra's "True"/"False" text.
      IsSoftDeleted: i % 10 === 0 ? (i % 20 === 0 ? 'True' : true) : false,
      givenName: `Given${i}`,
      surname: `Surname${i}`,
    });
  }
  return users;
}

const compiled = DOCUWARE_USER_MAPPINGS.map((m) => compileExpression(m.expression));
const users = generateUsers(USERS);
const expressionsPerUser = compiled.length;

function pass(): { ms: number; checksum: number } {
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let u = 0; u < users.length; u++) {
    const user = users[u]!;
    for (let e = 0; e < compiled.length; e++) {
      const result = compiled[e]!.evaluate(user);
      // Use every result so the work cannot be optimised away.
      if (typeof result.value === 'string') checksum += result.value.length;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, checksum };
}

pass(); // warm-up: let the JIT settle before measuring
const times: number[] = [];
let checksum = 0;
for (let p = 0; p < PASSES; p++) {
  const r = pass();
  times.push(r.ms);
  checksum = r.checksum;
}
times.sort((a, b) => a - b);
const fmt = (ms: number) => {
  const usersPerSecond = Math.round(users.length / (ms / 1000));
  const nsPerExpression = ((ms * 1e6) / (users.length * expressionsPerUser)).toFixed(1);
  return `${usersPerSecond.toLocaleString('en-US')} users/s, ${nsPerExpression} ns per expression (${ms.toFixed(1)} ms per pass)`;
};
const median = times[Math.floor(times.length / 2)]!;
process.stdout.write([
  `expressions bench: DocuWare mapping set (${expressionsPerUser} expressions), ${users.length.toLocaleString('en-US')} users, ${PASSES} passes after warm-up, node ${process.version}`,
  ...DOCUWARE_USER_MAPPINGS.map((m) => `  ${m.target}: ${m.expression}`),
  `best:   ${fmt(times[0]!)}`,
  `median: ${fmt(median)}`,
  `goal:   500,000 users/s — ${users.length / (times[0]! / 1000) >= 500_000 ? 'met' : 'not met'} (best pass)`,
  `checksum ${checksum}`,
  '',
].join('\n'));
