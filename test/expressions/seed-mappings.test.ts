// The vendor guides' mappings (DocuWare, Document360) give the values those targets expect.
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/expressions/index.js';
import { DOCUMENT360_USER_MAPPINGS, DOCUWARE_USER_MAPPINGS } from '../../src/expressions/seed-mappings.js';

const docuware = Object.fromEntries(DOCUWARE_USER_MAPPINGS.map((m) => [m.target, compileExpression(m.expression)]));
const userName = docuware.userName!;
const active = docuware.active!;
const email = docuware['emails[type eq "work"].value']!;
const externalId = docuware.externalId!;

describe('DocuWare seed mappings', () => {
  it('userName is the part of the UPN before the @', () => {
    expect(userName.evaluate({ userPrincipalName: 'anna.meier@contoso.com' }).value).toBe('anna.meier');
    expect(userName.evaluate({ userPrincipalName: 'no-at-sign' }).value).toBe('no-at-sign');
    expect(userName.evaluate({ userPrincipalName: 'a@b@c' }).value).toBe('a');
    expect(userName.evaluate({ userPrincipalName: '@contoso.com' }).value).toBe('');
    expect(userName.evaluate({}).value).toBeNull();
  });

  it('active is the inverse of IsSoftDeleted, whether Graph gives a boolean or the "True"/"False" text', () => {
    expect(active.evaluate({ IsSoftDeleted: false }).value).toBe('True');
    expect(active.evaluate({ IsSoftDeleted: true }).value).toBe('False');
    expect(active.evaluate({ IsSoftDeleted: 'False' }).value).toBe('True');
    expect(active.evaluate({ IsSoftDeleted: 'True' }).value).toBe('False');
  });

  it('active has no default: an unexpected IsSoftDeleted value yields null, not a guess', () => {
    expect(active.evaluate({}).value).toBeNull();
    expect(active.evaluate({ IsSoftDeleted: 'true' }).value).toBeNull(); // Switch keys are case-sensitive
  });

  it('the work email is mail, falling back to the UPN', () => {
    expect(email.evaluate({ mail: 'anna@contoso.com', userPrincipalName: 'anna.meier@contoso.com' }).value).toBe('anna@contoso.com');
    expect(email.evaluate({ mail: null, userPrincipalName: 'anna.meier@contoso.com' }).value).toBe('anna.meier@contoso.com');
    expect(email.evaluate({ userPrincipalName: 'anna.meier@contoso.com' }).value).toBe('anna.meier@contoso.com');
  });

  it('externalId is the object id, and the set references exactly the attributes to $select', () => {
    expect(externalId.evaluate({ objectId: '6e3c9a4b-2f1d-4c8e-9b7a-1d2e3f4a5b6c' }).value).toBe('6e3c9a4b-2f1d-4c8e-9b7a-1d2e3f4a5b6c');
    const references = new Set(Object.values(docuware).flatMap((c) => c.references));
    expect([...references].sort()).toEqual(['IsSoftDeleted', 'mail', 'objectId', 'userPrincipalName']);
  });
});

describe('Document360 seed mapping', () => {
  const isTeamAccount = compileExpression(DOCUMENT360_USER_MAPPINGS[0]!.expression);
  it.each([
    ['Manager', 'True'],
    ['Senior Manager', 'True'],
    ['Team Lead', 'True'],
    ['Engineer', 'False'],
    ['manager', 'False'],
  ])('jobTitle %s → isTeamAccount %s', (jobTitle, expected) => {
    expect(isTeamAccount.evaluate({ jobTitle }).value).toBe(expected);
  });

  it('a user without a job title is a Reader', () => {
    expect(isTeamAccount.evaluate({}).value).toBe('False');
  });
});
