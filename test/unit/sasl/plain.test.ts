import { expect } from 'chai';
import { deriveCredentials, type ScramCredentials } from '../../../server/sasl/credentials.ts';
import { PlainExchange } from '../../../server/sasl/plain.ts';
import { makeContext, failureOf } from './sasl-fixtures.ts';

let accounts: Record<string, ScramCredentials>;
before(async () => {
  accounts = { juliet: await deriveCredentials('r0m3o'), IX: await deriveCredentials('I\u00ADX pass') };
});

const msg = (s: string) => Buffer.from(s, 'utf8');

describe('PLAIN (RFC 4616)', () => {
  it('authenticates authcid and password; no authzid when it is empty', async () => {
    const ex = new PlainExchange(makeContext(accounts));
    expect(await ex.step(msg('\0juliet\0r0m3o'))).to.deep.equal({ kind: 'success', data: null, username: 'juliet' });
  });

  it('passes a non-empty authzid on for the core to check', async () => {
    const ex = new PlainExchange(makeContext(accounts));
    expect(await ex.step(msg('juliet@example.com\0juliet\0r0m3o')))
      .to.deep.equal({ kind: 'success', data: null, username: 'juliet', authzid: 'juliet@example.com' });
  });

  it('sends an empty challenge when there is no initial response, then authenticates', async () => {
    const ex = new PlainExchange(makeContext(accounts));
    expect(await ex.step(null)).to.deep.equal({ kind: 'challenge', data: Buffer.alloc(0) });
    expect((await ex.step(msg('\0juliet\0r0m3o'))).kind).to.equal('success');
  });

  it('SASLpreps the authcid and the password', async () => {
    const ctx = makeContext(accounts);
    const ex = new PlainExchange(ctx);
    expect(await ex.step(msg('\0I\u00ADX\0IX pass'))).to.deep.include({ kind: 'success', username: 'IX' });
    expect(ctx.lookups).to.deep.equal(['IX']);
  });

  it('refuses a wrong password with not-authorized', async () => {
    expect(await failureOf(new PlainExchange(makeContext(accounts)).step(msg('\0juliet\0romeo')))).to.equal('not-authorized');
  });

  it('refuses an unknown user with not-authorized after looking it up', async () => {
    const ctx = makeContext(accounts);
    expect(await failureOf(new PlainExchange(ctx).step(msg('\0romeo\0r0m3o')))).to.equal('not-authorized');
    expect(ctx.lookups).to.deep.equal(['romeo']);
  });

  it('a failing credential lookup → temporary-auth-failure', async () => {
    const ctx = { ...makeContext(accounts), getCredentials: async () => { throw new Error('store down'); } };
    expect(await failureOf(new PlainExchange(ctx).step(msg('\0juliet\0r0m3o')))).to.equal('temporary-auth-failure');
  });

  const malformed: [string, Buffer | null][] = [
    ['no NUL', msg('julietr0m3o')],
    ['one NUL', msg('juliet\0r0m3o')],
    ['three NULs', msg('\0juliet\0r0m3o\0')],
    ['empty authcid', msg('\0\0r0m3o')],
    ['empty password', msg('\0juliet\0')],
    ['empty response', Buffer.alloc(0)],
    ['invalid UTF-8', Buffer.concat([msg('\0juli'), Buffer.from([0xff]), msg('et\0r0m3o')])],
    ['authcid SASLprep prohibits', msg('\0jul\u0007iet\0r0m3o')],
    ['a field over 1024 bytes', msg(`\0juliet\0${'x'.repeat(1025)}`)],
  ];
  for (const [name, data] of malformed) {
    it(`${name} → malformed-request`, async () => {
      const ctx = makeContext(accounts);
      expect(await failureOf(new PlainExchange(ctx).step(data))).to.equal('malformed-request');
      expect(ctx.lookups).to.deep.equal([]);
    });
  }

  it('a second empty response after the empty challenge → malformed-request', async () => {
    const ex = new PlainExchange(makeContext(accounts));
    await ex.step(null);
    expect(await failureOf(ex.step(null))).to.equal('malformed-request');
  });

  it('is spent after one attempt, and abort() yields "aborted"', async () => {
    const ex = new PlainExchange(makeContext(accounts));
    expect(await failureOf(ex.step(msg('\0juliet\0wrong')))).to.equal('not-authorized');
    expect(await failureOf(ex.step(msg('\0juliet\0r0m3o')))).to.equal('malformed-request');
    const ex2 = new PlainExchange(makeContext(accounts));
    expect(ex2.abort().condition).to.equal('aborted');
    expect(await failureOf(ex2.step(msg('\0juliet\0r0m3o')))).to.equal('malformed-request');
  });
});
