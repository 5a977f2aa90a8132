import { expect } from 'chai';
import { AuthThrottle, ipKey, blockKey } from '../../../server/sasl/auth-throttle.ts';

const FORGET = 60_000;
const COOL_DOWN = 30_000;
const HOLD = 35_000;

/**
 * 3 free failures, waits of 1 s doubling to 8 s, forgotten after 60 s; blocks wait once 4 of their
 * addresses failed; accounts are hot after 3 failures, cooling down in 30 s.
 */
function throttle(opts: { maxKeys?: number } = {}) {
  let t = 1_000_000;
  const th = new AuthThrottle({
    perAddress: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: FORGET },
    perBlock: { distinctAddresses: 4 },
    perAccount: { hotAfterFailures: 3, coolDownMs: COOL_DOWN },
    holdMs: HOLD,
    now: () => t,
    ...opts,
  });
  /** One exchange as the stream layer runs it: admitted, the account named, the password checked. */
  const attempt = (ip: string, account: string | undefined, passwordRight: boolean): 'refused' | 'failed' | 'succeeded' => {
    if (!th.admit(ip).allowed) return 'refused';
    if (account !== undefined && !th.check(ip, account).allowed) return 'refused';
    if (!passwordRight) {
      th.recordFailure(ip, account);
      return 'failed';
    }
    th.recordSuccess(ip, account!);
    return 'succeeded';
  };
  const fail = (ip: string, account?: string) => expect(attempt(ip, account, false)).to.equal('failed');
  return { th, attempt, fail, advance: (ms: number) => { t += ms; } };
}

const allowed = { allowed: true };
const refused = (retryAfterMs: number) => ({ allowed: false, retryAfterMs });

describe('AuthThrottle', () => {
  describe('per address', () => {
    it('the free failures cost nothing; then each failure doubles the wait, up to the maximum', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 3; i++) fail('192.0.2.1');
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) {
        fail('192.0.2.1');
        const verdict = th.admit('192.0.2.1');
        expect(verdict.allowed).to.equal(false);
        waits.push(verdict.retryAfterMs!);
        advance(verdict.retryAfterMs! - 1);
        expect(th.admit('192.0.2.1')).to.deep.equal(refused(1));
        advance(1);
      }
      expect(waits).to.deep.equal([1000, 2000, 4000, 8000, 8000, 8000]);
      expect(th.admit('192.0.2.2')).to.deep.equal(allowed); // other addresses are unaffected
    });

    it('refused attempts do not count: only a checked password lengthens the wait', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 4; i++) fail('192.0.2.1');
      for (let i = 0; i < 100; i++) {
        expect(th.admit('192.0.2.1').allowed).to.equal(false);
        advance(5);
      }
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(500));
      advance(500);
      fail('192.0.2.1'); // the fifth failure, not the 105th
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(2000));
    });

    it('forgets an address after a quiet period, and only then', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 4; i++) {
        fail('192.0.2.1');
        advance(FORGET - 1); // never quiet for long enough: the failures add up
      }
      fail('192.0.2.1');
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(2000));
      advance(FORGET);
      expect(th.size).to.deep.equal({ addresses: 1, blocks: 1, accounts: 0, inFlight: 0 });
      for (let i = 0; i < 3; i++) fail('192.0.2.1'); // free again
      expect(th.size).to.deep.equal({ addresses: 1, blocks: 1, accounts: 0, inFlight: 0 });
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
    });

    it('counts an IPv4-mapped IPv6 address as its IPv4 address, and an IPv6 address by its /64', () => {
      const { th, fail } = throttle();
      for (const ip of ['::ffff:192.0.2.1', '192.0.2.1', '::FFFF:192.0.2.1', '192.0.2.1']) fail(ip);
      expect(th.admit('::ffff:192.0.2.1')).to.deep.equal(refused(1000));
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::2', '2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::3']) fail(ip);
      expect(th.admit('2001:db8:1:2::99')).to.deep.equal(refused(1000));
      expect(th.admit('2001:db8:1:3::1')).to.deep.equal(allowed);
    });
  });

  describe('exchanges in flight', () => {
    it('a clean address may start any number of exchanges at once (a NAT, a load test), but only the free failures on one account', () => {
      const { th } = throttle();
      const admitted = Array.from({ length: 100 }, () => th.admit('192.0.2.1'));
      expect(admitted.every((v) => v.allowed)).to.equal(true);
      // A hundred different accounts: every exchange goes on.
      for (let i = 0; i < 97; i++) expect(th.check('192.0.2.1', `user${i}@example.com`)).to.deep.equal(allowed);
      // One account: its first three (the free failures) go on, the others are refused.
      const onJuliet = [0, 1, 2].map(() => th.check('192.0.2.1', 'juliet@example.com'));
      expect(onJuliet).to.deep.equal([allowed, allowed, allowed]);
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal(refused(HOLD));
      // Once one of them has its outcome, another may try juliet.
      th.recordSuccess('192.0.2.1', 'juliet@example.com');
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal(allowed);
    });

    it('an address with failures gets its remaining free failures at once, then one exchange at a time', () => {
      const { th, fail } = throttle();
      fail('192.0.2.1');
      const verdicts = Array.from({ length: 10 }, () => th.admit('192.0.2.1'));
      expect(verdicts.filter((v) => v.allowed)).to.have.length(2);
      expect(verdicts.slice(2)).to.deep.equal(Array(8).fill(refused(HOLD)));
      for (let i = 0; i < 2; i++) th.recordFailure('192.0.2.1');
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed); // the fourth exchange, past the free ones
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(HOLD)); // waits for the fourth's outcome
      th.recordFailure('192.0.2.1');
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(1000)); // which sets the first wait
      expect(th.admit('192.0.2.2')).to.deep.equal(allowed);
    });

    it('an exchange whose outcome never comes holds its place for the hold time', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 3; i++) fail('192.0.2.1');
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed); // the client leaves without an answer
      advance(HOLD - 1);
      expect(th.admit('192.0.2.1').allowed).to.equal(false);
      advance(1);
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.size.inFlight).to.equal(2); // the address and its block
    });

    it('a success, or a refusal once the account is named, frees the place', () => {
      const { th, fail } = throttle();
      for (let i = 0; i < 3; i++) fail('192.0.2.1', 'juliet@example.com');
      // A success: the guesser logs in to its own account.
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      th.recordSuccess('192.0.2.1', 'mallory@example.com');
      // A refusal: juliet is hot and this address failed on her.
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal(refused(COOL_DOWN));
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      th.recordFailure('192.0.2.1', 'mallory@example.com');
      expect(th.size.inFlight).to.equal(0);
    });

    it('a block that waits as a whole also takes one exchange at a time', () => {
      const { th, fail, advance } = throttle();
      for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) fail(ip);
      advance(1000);
      expect(th.admit('192.0.2.10')).to.deep.equal(allowed);
      expect(th.admit('192.0.2.11')).to.deep.equal(refused(HOLD));
      // A block that does not wait leaves that to its addresses.
      fail('192.0.3.1');
      expect(th.admit('192.0.3.2')).to.deep.equal(allowed);
      expect(th.admit('192.0.3.3')).to.deep.equal(allowed);
    });
  });

  describe('per block', () => {
    it('one address, however many failures, never makes its block wait', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 50; i++) {
        fail('127.0.0.2', i < 3 ? 'alice@localhost' : undefined); // alice is hot after three: the rest name no account
        advance(i < 49 ? 8000 : 0); // the longest wait
      }
      fail('127.0.0.3'); // a second and a third address fail too: still below 4
      fail('127.0.0.4');
      expect(th.admit('127.0.0.2')).to.deep.equal(refused(8000));
      expect(th.admit('127.0.0.1')).to.deep.equal(allowed);
      expect(th.check('127.0.0.1', 'alice@localhost')).to.deep.equal(allowed);
    });

    it('once enough distinct addresses of a block failed, the whole block waits, and rotating addresses doubles it', () => {
      const { th, fail, advance } = throttle();
      for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) fail(ip);
      fail('192.0.2.4'); // the fourth address; the block's fourth failure
      expect(th.admit('192.0.2.200')).to.deep.equal(refused(1000)); // a fresh address in the block waits too
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(1000));
      expect(th.admit('192.0.3.1')).to.deep.equal(allowed); // the next /24 does not
      advance(1000);
      fail('192.0.2.5');
      expect(th.admit('192.0.2.6')).to.deep.equal(refused(2000));
      advance(2000);
      fail('192.0.2.6');
      expect(th.admit('192.0.2.7')).to.deep.equal(refused(4000));
    });

    it('groups IPv6 addresses by /48', () => {
      const { th, fail } = throttle();
      for (const ip of ['2001:db8:5:1::1', '2001:db8:5:2::1', '2001:db8:5:3::1', '2001:db8:5:ffff::1']) fail(ip);
      expect(th.admit('2001:db8:5:abcd::7')).to.deep.equal(refused(1000));
      expect(th.admit('2001:db8:6:1::1')).to.deep.equal(allowed);
    });

    it('counts only the addresses it still remembers', () => {
      const { th, fail, advance } = throttle();
      fail('192.0.2.1');
      fail('192.0.2.2');
      advance(40_000);
      fail('192.0.2.3');
      advance(FORGET - 40_000); // .1 and .2 are forgotten; .3 and the block are not
      fail('192.0.2.4');
      fail('192.0.2.5');
      expect(th.size).to.deep.equal({ addresses: 3, blocks: 1, accounts: 0, inFlight: 0 });
      fail('192.0.2.6'); // four remembered addresses; six failures in the block
      expect(th.admit('192.0.2.200')).to.deep.equal(refused(4000));
    });
  });

  describe('per account', () => {
    it('a hot account refuses addresses with recent failures but lets a clean address in', () => {
      const { th, attempt, fail } = throttle();
      // A guesser spread over three networks, one failure each: no address or block waits.
      const bots = ['192.0.2.1', '198.51.100.1', '203.0.113.1'];
      for (const ip of bots) fail(ip, 'juliet@example.com');
      for (const ip of bots) {
        expect(th.admit(ip)).to.deep.equal(allowed);
        expect(th.check(ip, 'juliet@example.com')).to.deep.equal(refused(COOL_DOWN));
        expect(attempt(ip, 'romeo@example.com', false)).to.equal('failed'); // other accounts are not held back
      }
      expect(attempt('192.0.2.77', 'juliet@example.com', true)).to.equal('succeeded'); // the owner, at a clean address
      for (const ip of bots) fail(ip, 'juliet@example.com'); // the success cooled juliet; three more failures heat her again
      expect(attempt('192.0.2.1', 'juliet@example.com', true)).to.equal('refused');
      fail('192.0.2.78', 'juliet@example.com'); // a new bot: one guess, then it is held back too
      expect(attempt('192.0.2.78', 'juliet@example.com', false)).to.equal('refused');
      expect(attempt('192.0.2.79', 'juliet@example.com', true)).to.equal('succeeded');
    });

    it('an address may try again once its own failures are older than the cool-down, even while the account stays hot', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 3; i++) fail('192.0.2.1', 'juliet@example.com');
      advance(20_000);
      fail('198.51.100.1', 'juliet@example.com'); // keeps the account hot
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal(refused(10_000));
      advance(10_000);
      expect(th.admit('192.0.2.1')).to.deep.equal(allowed);
      expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal(allowed);
      expect(th.admit('198.51.100.1')).to.deep.equal(allowed);
      expect(th.check('198.51.100.1', 'juliet@example.com')).to.deep.equal(refused(20_000));
    });

    it('cools down after a pause of the cool-down time without failures', () => {
      const { th, attempt, fail, advance } = throttle();
      for (let i = 0; i < 3; i++) fail('192.0.2.1', 'juliet@example.com');
      advance(COOL_DOWN);
      expect(th.size.accounts).to.equal(1);
      fail('192.0.2.1', 'juliet@example.com'); // the account's first failure again; the address's own fourth
      expect(th.size.accounts).to.equal(1);
      advance(1000);
      expect(attempt('192.0.2.1', 'juliet@example.com', true)).to.equal('succeeded');
    });

    it('a success clears the account but never the address', () => {
      const { th, attempt, fail } = throttle();
      // A guesser who owns 'mallory' logs in between guesses at juliet.
      for (let i = 0; i < 3; i++) fail('192.0.2.1', 'juliet@example.com');
      expect(attempt('192.0.2.1', 'mallory@example.com', true)).to.equal('succeeded');
      expect(attempt('192.0.2.1', 'juliet@example.com', false)).to.equal('refused');
      fail('192.0.2.1', 'mallory@example.com');
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(1000)); // its fourth failure: the address counts them all
      // The owner logs in from a clean address: juliet is no longer hot, the guesser still waits.
      expect(attempt('198.51.100.7', 'juliet@example.com', true)).to.equal('succeeded');
      expect(th.admit('192.0.2.1')).to.deep.equal(refused(1000));
      expect(th.size.accounts).to.equal(1); // mallory's failure
    });
  });

  describe('memory', () => {
    it('forgets records as time passes', () => {
      const { th, fail, advance } = throttle();
      for (let i = 0; i < 50; i++) fail(`10.0.${i}.1`, `user${i}@example.com`);
      for (let i = 0; i < 20; i++) th.admit(`10.1.${i}.1`); // exchanges that never end
      expect(th.size).to.deep.equal({ addresses: 50, blocks: 50, accounts: 50, inFlight: 40 });
      advance(COOL_DOWN);
      fail('198.51.100.1');
      expect(th.size).to.deep.equal({ addresses: 51, blocks: 51, accounts: 0, inFlight: 40 });
      advance(HOLD - COOL_DOWN);
      expect(th.admit('198.51.100.1')).to.deep.equal(allowed);
      expect(th.size).to.deep.equal({ addresses: 51, blocks: 51, accounts: 0, inFlight: 2 });
      advance(FORGET - HOLD);
      th.recordFailure('198.51.100.1');
      expect(th.size).to.deep.equal({ addresses: 1, blocks: 1, accounts: 0, inFlight: 0 });
    });

    it('caps every table, forgetting the oldest record first', () => {
      const { th, fail, advance } = throttle({ maxKeys: 3 });
      for (let i = 1; i <= 5; i++) {
        for (let n = 0; n < 4; n++) fail(`10.0.${i}.1`, n < 3 ? `user${i}@example.com` : undefined);
        advance(10);
      }
      for (let i = 1; i <= 5; i++) th.admit(`10.1.${i}.1`);
      expect(th.size).to.deep.equal({ addresses: 3, blocks: 3, accounts: 3, inFlight: 6 });
      expect(th.admit('10.0.1.1')).to.deep.equal(allowed); // evicted
      expect(th.admit('10.0.2.1')).to.deep.equal(allowed);
      expect(th.admit('10.0.5.1').allowed).to.equal(false);
      // A guesser refreshing its own record is not the oldest and stays.
      th.recordFailure('10.0.3.1');
      th.recordFailure('10.0.6.1');
      expect(th.admit('10.0.3.1').allowed).to.equal(false);
      expect(th.admit('10.0.4.1')).to.deep.equal(allowed);
    });

    it('keeps the count of a block\'s addresses right when the cap evicts addresses', () => {
      const { th, fail } = throttle({ maxKeys: 2 });
      for (let i = 1; i <= 6; i++) fail(`192.0.2.${i}`);
      // Only two addresses are remembered, so the block has never had four: it does not wait.
      expect(th.admit('192.0.2.200')).to.deep.equal(allowed);
    });
  });

  it('keys addresses and blocks', () => {
    expect(ipKey('::ffff:192.0.2.1')).to.equal('192.0.2.1');
    expect(ipKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(ipKey('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(ipKey('::1')).to.equal('0:0:0:0::/64');
    expect(ipKey('192.0.2.1')).to.equal('192.0.2.1');
    expect(blockKey('192.0.2.77')).to.equal('192.0.2.0/24');
    expect(blockKey('::ffff:127.0.0.2')).to.equal('127.0.0.0/24');
    expect(blockKey('2001:0db8:00a0:1234::1')).to.equal('2001:db8:a0::/48');
    expect(blockKey('')).to.equal('');
  });

  it('refuses nonsensical settings', () => {
    const ok = {
      perAddress: { freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: 60_000 },
      perBlock: { distinctAddresses: 8 },
      perAccount: { hotAfterFailures: 5, coolDownMs: 1000 },
      holdMs: 35_000,
    };
    expect(() => new AuthThrottle(ok)).to.not.throw();
    expect(() => new AuthThrottle({ ...ok, perAddress: { ...ok.perAddress, forgetAfterMs: 7999 } })).to.throw(RangeError);
    expect(() => new AuthThrottle({ ...ok, perAddress: { ...ok.perAddress, maxDelayMs: 999 } })).to.throw(RangeError);
    expect(() => new AuthThrottle({ ...ok, perAddress: { ...ok.perAddress, freeFailures: -1 } })).to.throw(RangeError);
    expect(() => new AuthThrottle({ ...ok, perBlock: { distinctAddresses: 1 } })).to.throw(RangeError);
    expect(() => new AuthThrottle({ ...ok, perAccount: { hotAfterFailures: 0, coolDownMs: 1000 } })).to.throw(RangeError);
    expect(() => new AuthThrottle({ ...ok, holdMs: 0 })).to.throw(RangeError);
  });
});
