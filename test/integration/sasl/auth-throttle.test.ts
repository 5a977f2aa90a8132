// Issue 12: password guessing must slow the guesser, never lock the owner out. A guesser at its own
// loopback address hammers an account while the owner logs in from another address in the same
// /24, over real sockets against the real server with its default throttle.
import { expect } from 'chai';
import type { Element } from 'ltx';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { TestScramClient } from '../../support/scram-test-client.ts';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const plain = (user: string, password: string) => `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64(`\0${user}\0${password}`)}</auth>`;
const MAX_AUTH_FAILURES = 3;

/** Two listeners: IPv4 only, and dual-stack, whose sockets report IPv4 clients as IPv4-mapped addresses (::ffff:127.0.0.2). */
const LISTENERS = [
  { name: 'an IPv4 listener', address: '127.0.0.1' },
  { name: 'a dual-stack listener', address: '::' },
];

async function secureStream(port: number, localAddress: string): Promise<RawClient> {
  const c = await RawClient.connect(port, { localAddress });
  await c.open();
  await c.startTls();
  await c.open();
  return c;
}

/** The SASL condition of a <failure/>, after checking that it is one. */
function failureCondition(el: Element): string {
  expect(el.name, String(el)).to.equal('failure');
  expect(el.attrs.xmlns).to.equal(NS.sasl);
  return el.getChildElements()[0]!.name;
}

/** A guesser at one address: it reconnects whenever the server closes its stream (RFC 6120 §6.4.5). */
class Guesser {
  readonly answers: string[] = [];
  private conn: RawClient | null = null;
  private failuresOnStream = 0;

  constructor(private readonly port: number, private readonly localAddress: string) {}

  async guess(user: string, password: string): Promise<string> {
    if (!this.conn) {
      this.conn = await secureStream(this.port, this.localAddress);
      this.failuresOnStream = 0;
    }
    this.conn.send(plain(user, password));
    const condition = failureCondition(await this.conn.next());
    this.answers.push(condition);
    // A refusal checked no password: it is not one of the stream's failed attempts.
    if (condition === 'not-authorized' && ++this.failuresOnStream === MAX_AUTH_FAILURES) {
      expect(await this.conn.streamError()).to.equal('policy-violation');
      this.close();
    }
    return condition;
  }

  close(): void {
    this.conn?.destroy();
    this.conn = null;
  }
}

/** The owner's login: PLAIN, or SCRAM-SHA-256 checking the server's signature; throws unless it succeeds at once. */
async function ownerLogin(port: number, localAddress: string, mechanism: 'PLAIN' | 'SCRAM-SHA-256', nonce = 'owner-nonce'): Promise<void> {
  const c = await secureStream(port, localAddress);
  try {
    if (mechanism === 'PLAIN') {
      c.send(plain('alice', 'wonderland'));
      const answer = await c.next();
      expect(answer.name, answer.toString()).to.equal('success');
      return;
    }
    const client = new TestScramClient('sha256', { username: 'alice', password: 'wonderland', nonce });
    c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256'>${b64(client.first())}</auth>`);
    const challenge = await c.next();
    expect(challenge.name, challenge.toString()).to.equal('challenge');
    c.send(`<response xmlns='${NS.sasl}'>${b64(client.final(Buffer.from(challenge.getText(), 'base64')))}</response>`);
    const success = await c.next();
    expect(success.name, success.toString()).to.equal('success');
    expect(Buffer.from(success.getText(), 'base64').toString()).to.equal(client.expectedServerFinal());
  } finally {
    c.destroy();
  }
}

for (const listener of LISTENERS) {
  describe(`authentication throttle over ${listener.name} (issue 12)`, () => {
    let t: TestServer;
    beforeEach(async () => {
      t = await startTestServer({
        config: {
          listeners: [{ type: 'c2s', address: listener.address, port: 0, tls: 'starttls' }],
          c2s: { maxAuthFailures: MAX_AUTH_FAILURES },
        },
      });
      await t.addUser('alice', 'wonderland');
    });
    afterEach(() => t.stop());

    it('a guesser at 127.0.0.2 makes 200 guesses at alice; alice logs in from 127.0.0.1 at once after every ten', async () => {
      const attacker = new Guesser(t.c2sPort, '127.0.0.2');
      let owner = 0;
      try {
        for (let batch = 0; batch < 20; batch++) {
          // The owner's login runs alongside the batch, so their exchanges interleave on the server.
          const guesses = (async () => {
            for (let i = 0; i < 10; i++) await attacker.guess('alice', `guess-${batch}-${i}`);
          })();
          await Promise.all([guesses, ownerLogin(t.c2sPort, '127.0.0.1', batch % 2 ? 'SCRAM-SHA-256' : 'PLAIN', `owner-nonce-${batch}`)]);
          owner++;
        }
      } finally {
        attacker.close();
      }
      expect(owner).to.equal(20);
      const { answers } = attacker;
      expect(answers).to.have.length(200);
      // The five free failures were checked and wrong...
      expect(answers.slice(0, 5)).to.deep.equal(Array(5).fill('not-authorized'));
      // ...then alice is hot and the guesser's address waits, doubling its wait with every further
      // failure: only a few more guesses are checked (when the owner's login has just cooled alice
      // and the address's wait has run out).
      expect(answers.slice(5)).to.include('temporary-auth-failure');
      const checked = answers.filter((a) => a === 'not-authorized').length;
      expect(checked, `checked guesses: ${checked}`).to.be.below(15);
      expect(checked + answers.filter((a) => a === 'temporary-auth-failure').length).to.equal(200);
    });

    it('many clients behind one address log in at once: thirty parallel logins to thirty accounts all succeed', async () => {
      const users = Array.from({ length: 30 }, (_, i) => `user${i}`);
      for (const u of users) await t.addUser(u, `secret-${u}`);
      const streams = await Promise.all(users.map(() => secureStream(t.c2sPort, '127.0.0.2')));
      try {
        streams.forEach((c, i) => c.send(plain(users[i]!, `secret-${users[i]}`)));
        const answers = await Promise.all(streams.map(async (c) => (await c.next()).name));
        expect(answers).to.deep.equal(Array(30).fill('success'));
      } finally {
        for (const c of streams) c.destroy();
      }
    });

    it('twenty parallel connections from a fresh address guessing one account get its five free guesses at once, then one at a time', async () => {
      // A long first wait, so that a slow machine cannot let a sixth guess through by taking a second.
      const slow = await startTestServer({
        config: {
          listeners: [{ type: 'c2s', address: listener.address, port: 0, tls: 'starttls' }],
          sasl: { throttle: { perAddress: { baseDelaySeconds: 60 } } },
        },
      });
      const streams: RawClient[] = [];
      try {
        await slow.addUser('alice', 'wonderland');
        for (let i = 0; i < 20; i++) streams.push(await secureStream(slow.c2sPort, '127.0.0.2'));
        streams.forEach((c, i) => c.send(plain('alice', `parallel-${i}`)));
        const answers = await Promise.all(streams.map(async (c) => failureCondition(await c.next())));
        const checked = answers.filter((a) => a === 'not-authorized').length;
        // Five exchanges on alice in flight count as the five free failures; the sixth waits for their outcome.
        expect(checked, answers.join(' ')).to.be.within(5, 6);
        expect(answers.filter((a) => a === 'temporary-auth-failure')).to.have.length(20 - checked);
        await ownerLogin(slow.c2sPort, '127.0.0.1', 'PLAIN');
      } finally {
        for (const c of streams) c.destroy();
        await slow.stop();
      }
    });

    it('addresses rotating inside one /24: eight make the whole block wait, one never does', async () => {
      await t.addUser('bob', 'builder');
      // Seven addresses of 127.0.0.0/24, each with a wrong guess: the block does not wait yet.
      for (let i = 2; i <= 8; i++) expect(await new Guesser(t.c2sPort, `127.0.0.${i}`).guess('alice', 'nope')).to.equal('not-authorized');
      const seventh = new Guesser(t.c2sPort, '127.0.0.8');
      for (let i = 0; i < 5; i++) expect(await seventh.guess('bob', `nope-${i}`)).to.equal('not-authorized'); // one address, many failures
      seventh.close();
      await ownerLogin(t.c2sPort, '127.0.0.1', 'PLAIN');
      // The eighth address: the block's 13th failure sets a wait for every address in it,
      expect(await new Guesser(t.c2sPort, '127.0.0.9').guess('alice', 'nope')).to.equal('not-authorized');
      expect(await new Guesser(t.c2sPort, '127.0.0.10').guess('alice', 'wonderland')).to.equal('temporary-auth-failure');
      // even one that never failed (the price of a rotating guesser next door); the next /24 does not wait.
      const owner = await secureStream(t.c2sPort, '127.0.0.1');
      owner.send(plain('alice', 'wonderland'));
      expect(failureCondition(await owner.next())).to.equal('temporary-auth-failure');
      owner.destroy();
      await ownerLogin(t.c2sPort, '127.0.1.1', 'PLAIN');
    });

    it('a held-back address is refused at SCRAM\'s first message; the owner\'s SCRAM from a clean address succeeds', async () => {
      const guesser = new Guesser(t.c2sPort, '127.0.0.2');
      for (let i = 0; i < 5; i++) expect(await guesser.guess('alice', `nope-${i}`)).to.equal('not-authorized');
      guesser.close();
      // alice is hot and 127.0.0.2 has failed on her: no challenge, so no password is checked.
      const c = await secureStream(t.c2sPort, '127.0.0.2');
      const client = new TestScramClient('sha256', { username: 'alice', password: 'wonderland', nonce: 'guesser-nonce' });
      c.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256'>${b64(client.first())}</auth>`);
      expect(failureCondition(await c.next())).to.equal('temporary-auth-failure');
      c.destroy();
      await ownerLogin(t.c2sPort, '127.0.0.1', 'SCRAM-SHA-256');
    });
  });
}
