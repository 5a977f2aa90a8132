import { expect } from 'chai';
import { AuthThrottle, ipKey } from '../../../server/sasl/auth-throttle.ts';

function throttle(opts: { maxKeys?: number } = {}) {
  let t = 1_000_000;
  const th = new AuthThrottle({
    perIp: { attempts: 3, windowMs: 60_000 },
    perAccount: { attempts: 2, windowMs: 300_000 },
    now: () => t,
    ...opts,
  });
  return { th, advance: (ms: number) => { t += ms; } };
}

describe('AuthThrottle', () => {
  it('allows attempts until an address reaches its failure limit, then refuses until the window ends', () => {
    const { th, advance } = throttle();
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: true });
    th.recordFailure('192.0.2.1');
    advance(1000);
    th.recordFailure('192.0.2.1');
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: true });
    advance(1000);
    th.recordFailure('192.0.2.1');
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: false, retryAfterMs: 58_000 });
    expect(th.check('192.0.2.2')).to.deep.equal({ allowed: true }); // other addresses are unaffected
    advance(57_999);
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: false, retryAfterMs: 1 });
    advance(1);
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: true });
    th.recordFailure('192.0.2.1'); // a new window starts with one failure
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: true });
  });

  it('counts failures per account across addresses', () => {
    const { th, advance } = throttle();
    th.recordFailure('192.0.2.1', 'juliet@example.com');
    th.recordFailure('198.51.100.7', 'juliet@example.com');
    expect(th.check('203.0.113.9', 'juliet@example.com')).to.deep.equal({ allowed: false, retryAfterMs: 300_000 });
    expect(th.check('203.0.113.9', 'romeo@example.com')).to.deep.equal({ allowed: true });
    expect(th.check('203.0.113.9')).to.deep.equal({ allowed: true });
    advance(300_000);
    expect(th.check('203.0.113.9', 'juliet@example.com')).to.deep.equal({ allowed: true });
  });

  it('reports the longer wait when both the address and the account are refused', () => {
    const { th, advance } = throttle();
    th.recordFailure('192.0.2.1', 'juliet@example.com');
    th.recordFailure('192.0.2.1', 'juliet@example.com');
    advance(10_000);
    th.recordFailure('192.0.2.1');
    expect(th.check('192.0.2.1', 'juliet@example.com')).to.deep.equal({ allowed: false, retryAfterMs: 290_000 });
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: false, retryAfterMs: 50_000 });
  });

  it('a success clears the account window but not the address window', () => {
    const { th } = throttle();
    th.recordFailure('192.0.2.1', 'juliet@example.com');
    th.recordFailure('192.0.2.1', 'juliet@example.com');
    th.recordFailure('192.0.2.1');
    th.recordSuccess('192.0.2.1', 'juliet@example.com');
    expect(th.check('192.0.2.9', 'juliet@example.com')).to.deep.equal({ allowed: true });
    expect(th.check('192.0.2.1').allowed).to.equal(false);
  });

  it('prunes expired windows as failures are recorded', () => {
    const { th, advance } = throttle();
    for (let i = 0; i < 50; i++) th.recordFailure(`192.0.2.${i}`, `user${i}@example.com`);
    expect(th.size).to.deep.equal({ ips: 50, accounts: 50 });
    advance(60_000); // address windows over, account windows not
    th.recordFailure('198.51.100.1');
    expect(th.size).to.deep.equal({ ips: 1, accounts: 50 });
    advance(240_000);
    th.recordFailure('198.51.100.2');
    expect(th.size).to.deep.equal({ ips: 1, accounts: 0 }); // the first address window also ended
  });

  it('caps the tracked keys, forgetting the oldest window first', () => {
    const { th, advance } = throttle({ maxKeys: 3 });
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      th.recordFailure(ip); th.recordFailure(ip); th.recordFailure(ip);
      advance(10);
    }
    expect(th.check('192.0.2.1').allowed).to.equal(false);
    th.recordFailure('192.0.2.4');
    expect(th.size.ips).to.equal(3);
    expect(th.check('192.0.2.1')).to.deep.equal({ allowed: true }); // evicted
    expect(th.check('192.0.2.2').allowed).to.equal(false);
    expect(th.check('192.0.2.3').allowed).to.equal(false);
  });

  it('counts an IPv6 address under its /64 and IPv4-mapped addresses as IPv4', () => {
    const { th } = throttle();
    th.recordFailure('2001:db8:1:2::1');
    th.recordFailure('2001:db8:1:2:ffff::2');
    th.recordFailure('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd');
    expect(th.check('2001:db8:1:2::99').allowed).to.equal(false);
    expect(th.check('2001:db8:1:3::1').allowed).to.equal(true);
    expect(ipKey('::ffff:192.0.2.1')).to.equal('192.0.2.1');
    expect(ipKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(ipKey('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(ipKey('::1')).to.equal('0:0:0:0::/64');
    expect(ipKey('192.0.2.1')).to.equal('192.0.2.1');
  });

  it('refuses nonsensical windows', () => {
    expect(() => new AuthThrottle({ perIp: { attempts: 0, windowMs: 1000 }, perAccount: { attempts: 1, windowMs: 1 } })).to.throw(RangeError);
  });
});
