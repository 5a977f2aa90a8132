// The account commands of the real CLI (adduser, passwd, deluser, users) as child processes,
// each on a fresh data directory; passwords are proven by logging in with @xmpp/client to a
// server opened on the same data directory.
import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, makeTempDir, writeConfig } from '../../support/chorus-process.ts';
import { startTestServer } from '../../support/test-server.ts';
import { connectClient } from '../../support/xmpp-client.ts';

/** True when the account logs in with this password; the SASL condition otherwise. */
async function tryLogin(dataDir: string, accounts: { user: string; domain?: string; password: string }[]): Promise<(true | string)[]> {
  const t = await startTestServer({ storage: 'disk', dataDir });
  try {
    const outcomes: (true | string)[] = [];
    for (const a of accounts) {
      try {
        const c = await connectClient({ service: `xmpp://127.0.0.1:${t.c2sPort}`, domain: a.domain ?? 'localhost', username: a.user, password: a.password });
        await c.stop();
        outcomes.push(true);
      } catch (err) {
        outcomes.push((err as { condition?: string }).condition ?? (err as Error).message);
      }
    }
    return outcomes;
  } finally {
    await t.stop();
  }
}

/** No stack trace: an operator's mistake gets a sentence, not a crash report. */
function expectNoStack(stderr: string): void {
  expect(stderr).to.not.match(/^\s+at /m);
}

describe('CLI: account commands', function () {
  this.timeout(60_000);
  let dir: string;
  let dataDir: string;
  let config: string;

  beforeEach(async () => {
    dir = await makeTempDir();
    dataDir = join(dir, 'data');
    config = await writeConfig(dir, {
      dataDir,
      log: { level: 'warn' },
      hosts: [{ domain: 'localhost' }, { domain: 'example.test' }],
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }],
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const chorus = (args: string[], input?: string) => runCli([...args, '--config', config], { input });

  it('adduser creates an account and users lists it', async () => {
    const add = await chorus(['adduser', 'alice@localhost', '--password', 'wonderland']);
    expect(add.code, add.stderr).to.equal(0);
    expect(add.stdout.trim()).to.equal('created alice@localhost');
    const list = await chorus(['users', 'localhost']);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout.trim().split('\n')).to.deep.equal(['alice@localhost']);
    // Only the host asked for.
    const other = await chorus(['users', 'example.test']);
    expect(other.code).to.equal(0);
    expect(other.stdout.trim()).to.equal('');
    expect(await tryLogin(dataDir, [{ user: 'alice', password: 'wonderland' }])).to.deep.equal([true]);
  });

  it('adduser of an existing account fails with a clear message and a non-zero exit, keeping the old password', async () => {
    expect((await chorus(['adduser', 'alice@localhost', '--password', 'first'])).code).to.equal(0);
    const again = await chorus(['adduser', 'Alice@LOCALHOST', '--password', 'second']);
    expect(again.code).to.not.equal(0);
    expect(again.stderr.trim()).to.equal('chorus: alice@localhost already exists');
    expectNoStack(again.stderr);
    expect(await tryLogin(dataDir, [{ user: 'alice', password: 'first' }, { user: 'alice', password: 'second' }])).to.deep.equal([true, 'not-authorized']);
  });

  it('passwd changes the password: the new one logs in, the old one no longer does', async () => {
    expect((await chorus(['adduser', 'alice@localhost', '--password', 'old-secret'])).code).to.equal(0);
    const passwd = await chorus(['passwd', 'alice@localhost', '--password', 'new-secret']);
    expect(passwd.code, passwd.stderr).to.equal(0);
    expect(passwd.stdout.trim()).to.equal('password changed for alice@localhost');
    expect(await tryLogin(dataDir, [{ user: 'alice', password: 'new-secret' }, { user: 'alice', password: 'old-secret' }])).to.deep.equal([
      true,
      'not-authorized',
    ]);
  });

  it('passwd of an account that does not exist fails and creates nothing', async () => {
    const passwd = await chorus(['passwd', 'ghost@localhost', '--password', 'boo']);
    expect(passwd.code).to.not.equal(0);
    expect(passwd.stderr.trim()).to.equal('chorus: ghost@localhost does not exist');
    expectNoStack(passwd.stderr);
    expect((await chorus(['users', 'localhost'])).stdout.trim()).to.equal('');
  });

  it('deluser removes the account; removing it again fails', async () => {
    const file = join(dir, 'accounts.txt');
    await writeFile(file, 'alice@localhost x\nbob@localhost y\n');
    expect((await chorus(['adduser', '--bulk', file])).code).to.equal(0);
    const del = await chorus(['deluser', 'alice@localhost']);
    expect(del.code, del.stderr).to.equal(0);
    expect(del.stdout.trim()).to.equal('deleted alice@localhost');
    expect((await chorus(['users', 'localhost'])).stdout.trim().split('\n')).to.deep.equal(['bob@localhost']);
    const again = await chorus(['deluser', 'alice@localhost']);
    expect(again.code).to.not.equal(0);
    expect(again.stderr.trim()).to.equal('chorus: alice@localhost does not exist');
    expect(await tryLogin(dataDir, [{ user: 'alice', password: 'x' }, { user: 'bob', password: 'y' }])).to.deep.equal(['not-authorized', true]);
  });

  it('adduser reads the password from standard input when it is not a terminal', async () => {
    const add = await chorus(['adduser', 'carol@localhost'], 'piped secret with spaces\n');
    expect(add.code, add.stderr).to.equal(0);
    expect(add.stdout).to.include('created carol@localhost');
    // Nothing prompts or echoes on a pipe.
    expect(add.stdout).to.not.include('piped secret');
    expect(await tryLogin(dataDir, [{ user: 'carol', password: 'piped secret with spaces' }])).to.deep.equal([true]);
  });

  it('adduser with nothing on standard input fails without creating the account', async () => {
    const add = await chorus(['adduser', 'carol@localhost'], '');
    expect(add.code).to.not.equal(0);
    expect(add.stderr).to.include('no password given on standard input');
    expect((await chorus(['users', 'localhost'])).stdout.trim()).to.equal('');
    // Like every other operator error (main.ts describe()), one line and no stack trace.
    expect(add.stderr.trim()).to.equal('chorus: no password given on standard input');
    expectNoStack(add.stderr);
  });

  it('adduser --bulk FILE creates every account listed, skipping blank lines and comments', async () => {
    const file = join(dir, 'accounts.txt');
    await writeFile(file, ['# name password', 'dave@localhost pw-dave', '', 'erin@localhost two words', 'frank@example.test pw-frank', ''].join('\n'));
    const bulk = await chorus(['adduser', '--bulk', file]);
    expect(bulk.code, bulk.stderr).to.equal(0);
    expect(bulk.stdout.trim()).to.equal('created 3 accounts');
    expect((await chorus(['users', 'localhost'])).stdout.trim().split('\n')).to.deep.equal(['dave@localhost', 'erin@localhost']);
    expect((await chorus(['users', 'example.test'])).stdout.trim().split('\n')).to.deep.equal(['frank@example.test']);
    expect(
      await tryLogin(dataDir, [
        { user: 'erin', password: 'two words' },
        { user: 'frank', domain: 'example.test', password: 'pw-frank' },
      ]),
    ).to.deep.equal([true, true]);
  });

  it('refuses addresses that are not accounts of a served host with a usage error (exit 2)', async () => {
    // One after the other: each command opens the embedded store in the same data directory.
    const noJid = await chorus(['adduser', '--password', 'x']);
    const resource = await chorus(['adduser', 'alice@localhost/phone', '--password', 'x']);
    const foreign = await chorus(['adduser', 'alice@elsewhere.example', '--password', 'x']);
    const users = await chorus(['users', 'elsewhere.example']);
    expect(noJid.code).to.equal(2);
    expect(noJid.stderr).to.include('a JID is required');
    expect(resource.code).to.equal(2);
    expect(resource.stderr).to.include('is not an account address');
    expect(foreign.code).to.equal(2);
    expect(foreign.stderr).to.include('elsewhere.example is not served here');
    expect(users.code).to.equal(2);
    expect(users.stderr).to.include('localhost, example.test');
    for (const r of [noJid, resource, foreign, users]) expectNoStack(r.stderr);
  });
});
