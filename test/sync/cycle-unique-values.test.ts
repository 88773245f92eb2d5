// SelectUniqueValue across one cycle: two new users whose first candidate is the same value must not both
// take it, whether they are planned in the same batch or one is planned while the other's create is in flight
// (its link, which `valueExists` reads, is not written yet).
import { describe, expect, it } from 'vitest';
import { harness, user } from './cycle-fixtures.js';

const LOGIN = `    users:
      mappings:
        - { target: login, expression: 'SelectUniqueValue(Join("", Left([givenName], 1), [surname]), Join("", Left([givenName], 2), [surname]))' }
`;

const logins = (h: ReturnType<typeof harness>) => [...h.connector.objects.user.values()].map((a) => a.login).sort();

describe('cycle: SelectUniqueValue within one cycle', () => {
  for (const batchSize of [500, 1]) {
    it(`gives two new users distinct values (batch size ${batchSize})`, async () => {
      const h = harness(LOGIN);
      user(h.source, 'ann', { givenName: 'Ann', surname: 'Lee' });
      user(h.source, 'anna', { givenName: 'Anna', surname: 'Lee' });
      const summary = await h.cycle({}, { batchSize });
      expect(summary.counts.create).toBe(2);
      expect(logins(h)).toEqual(['ALee', 'AnLee']);
    });
  }

  it('still sees the values earlier cycles wrote', async () => {
    const h = harness(LOGIN);
    user(h.source, 'ann', { givenName: 'Ann', surname: 'Lee' });
    await h.cycle();
    user(h.source, 'anna', { givenName: 'Anna', surname: 'Lee' });
    await h.cycle();
    expect(logins(h)).toEqual(['ALee', 'AnLee']);
  });
});
