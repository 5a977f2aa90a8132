// The per-address registration window, on a clock the test moves.
import { expect } from 'chai';
import { AddressLimiter } from '../../../xep/register/address-limiter.ts';

describe('register: AddressLimiter', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('allows `attempts` per window, then refuses until the window ends', () => {
    const limiter = new AddressLimiter(2, 60_000, 100, clock);
    expect([limiter.take('192.0.2.1'), limiter.take('192.0.2.1'), limiter.take('192.0.2.1')]).to.deep.equal([true, true, false]);
    expect(limiter.take('192.0.2.2')).to.equal(true);
    now += 59_999;
    expect(limiter.take('192.0.2.1')).to.equal(false);
    now += 1;
    expect(limiter.take('192.0.2.1')).to.equal(true);
  });

  it('counts IPv6 addresses by /64 and IPv4-mapped addresses as IPv4', () => {
    const limiter = new AddressLimiter(1, 60_000, 100, clock);
    expect(limiter.take('2001:db8:1:2::1')).to.equal(true);
    expect(limiter.take('2001:db8:1:2:ffff::9')).to.equal(false);
    expect(limiter.take('2001:db8:1:3::1')).to.equal(true);
    expect(limiter.take('::ffff:192.0.2.7')).to.equal(true);
    expect(limiter.take('192.0.2.7')).to.equal(false);
  });

  it('forgets expired windows and keeps at most maxKeys addresses', () => {
    const limiter = new AddressLimiter(1, 60_000, 3, clock);
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) limiter.take(a);
    expect(limiter.size).to.equal(3);
    // The oldest address was forgotten to make room, so it may try again.
    expect(limiter.take('192.0.2.1')).to.equal(true);
    now += 60_000;
    limiter.take('192.0.2.9');
    expect(limiter.size).to.equal(1);
  });
});
