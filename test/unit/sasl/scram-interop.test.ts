// Interop: the independent SCRAM-SHA-1 client from npm (`sasl-scram-sha-1` 1.4, WebCrypto based)
// runs full exchanges against our server mechanism in-process.
import { expect } from 'chai';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import ScramSha1 from 'sasl-scram-sha-1';
import { deriveCredentials, type ScramCredentials } from '../../../server/sasl/credentials.ts';
import { startMechanism, type SaslStep } from '../../../server/sasl/mechanism.ts';
import { makeContext, failureOf } from './sasl-fixtures.ts';

let accounts: Record<string, ScramCredentials>;
before(async () => {
  accounts = { romeo: await deriveCredentials('wherefore art thou'), 'o,dd=name': await deriveCredentials('p@ss,w=rd') };
});

/** Runs the npm client against SCRAM-SHA-1; returns the server's final step and the messages exchanged. */
async function run(cred: { username: string; password: string; authzid?: string }, initialResponse = true) {
  const ctx = makeContext(accounts);
  const server = startMechanism('SCRAM-SHA-1', ctx);
  const client = new ScramSha1();
  const clientFirst = String(client.response(cred));
  if (!initialResponse) {
    const empty = await server.step(null);
    expect(empty).to.deep.equal({ kind: 'challenge', data: Buffer.alloc(0) });
  }
  const serverFirst = await server.step(Buffer.from(clientFirst, 'utf8'));
  if (serverFirst.kind !== 'challenge') throw new Error('expected a challenge');
  client.challenge(serverFirst.data.toString('utf8'));
  const clientFinal = await client.response(cred);
  const final: SaslStep = await server.step(Buffer.from(clientFinal, 'utf8'));
  return { final, clientFirst, serverFirst: serverFirst.data.toString('utf8'), clientFinal, ctx };
}

/** v= recomputed here from the messages that crossed the wire (RFC 5802 §3). */
function expectedVerifier(password: string, clientFirst: string, serverFirst: string, clientFinal: string): string {
  const fields = new Map(serverFirst.split(',').map((f) => [f[0], f.slice(2)] as const));
  const salted = pbkdf2Sync(password, Buffer.from(fields.get('s')!, 'base64'), Number(fields.get('i')), 20, 'sha1');
  const serverKey = createHmac('sha1', salted).update('Server Key').digest();
  const bare = clientFirst.slice(clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1);
  const authMessage = `${bare},${serverFirst},${clientFinal.slice(0, clientFinal.lastIndexOf(',p='))}`;
  return `v=${createHmac('sha1', serverKey).update(authMessage).digest('base64')}`;
}

describe('SCRAM-SHA-1 interop with the sasl-scram-sha-1 npm client', () => {
  it('completes an exchange and the server signature matches', async () => {
    const { final, clientFirst, serverFirst, clientFinal } = await run({ username: 'romeo', password: 'wherefore art thou' });
    expect(clientFirst).to.match(/^n,,n=romeo,r=[0-9a-f]{32}$/);
    expect(final).to.deep.include({ kind: 'success', username: 'romeo' });
    expect(final.kind === 'success' && final.data!.toString()).to.equal(expectedVerifier('wherefore art thou', clientFirst, serverFirst, clientFinal));
  });

  it('completes an exchange started without an initial response', async () => {
    const { final } = await run({ username: 'romeo', password: 'wherefore art thou' }, false);
    expect(final.kind).to.equal('success');
  });

  it('handles escaped names, an authzid and a password with , and =', async () => {
    const { final, clientFirst } = await run({ username: 'o,dd=name', password: 'p@ss,w=rd', authzid: 'romeo@example.net' });
    expect(clientFirst.startsWith('n,a=romeo@example.net,n=o=2Cdd=3Dname,r=')).to.equal(true);
    expect(final).to.deep.include({ kind: 'success', username: 'o,dd=name', authzid: 'romeo@example.net' });
  });

  it('refuses a wrong password with not-authorized', async () => {
    expect(await failureOf(run({ username: 'romeo', password: 'wherefore art thee' }))).to.equal('not-authorized');
  });

  it('refuses an unknown user only at the final step', async () => {
    const ctx = makeContext(accounts);
    const server = startMechanism('SCRAM-SHA-1', ctx);
    const client = new ScramSha1();
    const cred = { username: 'tybalt', password: 'x' };
    const first = await server.step(Buffer.from(String(client.response(cred))));
    expect(first.kind).to.equal('challenge');
    client.challenge(first.data!.toString());
    expect(await failureOf(server.step(Buffer.from(await client.response(cred))))).to.equal('not-authorized');
    expect(ctx.lookups).to.deep.equal(['tybalt']);
  });
});
