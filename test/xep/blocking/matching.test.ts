// XEP-0191 §6 / XEP-0016 §2.1: which addresses an item covers.
import { expect } from 'chai';
import { parseJid } from '../../../server/jid.ts';
import { isBlocked, itemCovers } from '../../../xep/blocking/matching.ts';

const ENTITIES = ['user@domain/res', 'user@domain/other', 'user@domain', 'else@domain/res', 'domain/res', 'domain', 'user@sub.domain', 'sub.domain', 'user@otherdomain'];

/** Which of ENTITIES each item covers. */
const EXPECTED: Record<string, string[]> = {
  'user@domain/res': ['user@domain/res'],
  'user@domain': ['user@domain/res', 'user@domain/other', 'user@domain'],
  'domain/res': ['domain/res'],
  domain: ['user@domain/res', 'user@domain/other', 'user@domain', 'else@domain/res', 'domain/res', 'domain'],
};

describe('blocking (XEP-0191): JID matching', () => {
  for (const [item, covered] of Object.entries(EXPECTED)) {
    it(`${item} covers exactly ${covered.join(', ')}`, () => {
      const set = new Set([parseJid(item).toString()]);
      expect(ENTITIES.filter((e) => isBlocked(set, parseJid(e)))).to.deep.equal(covered);
      expect(ENTITIES.filter((e) => itemCovers(parseJid(item), parseJid(e)))).to.deep.equal(covered);
    });
  }

  it('an empty list covers nothing; several items cover the union', () => {
    expect(isBlocked(new Set(), parseJid('user@domain'))).to.equal(false);
    const set = new Set(['user@domain/res', 'otherdomain']);
    expect(ENTITIES.filter((e) => isBlocked(set, parseJid(e)))).to.deep.equal(['user@domain/res', 'user@otherdomain']);
  });
});
