// An operator runs `chorus adduser` while `chorus start` is running on the same data directory
// (the embedded store). Whatever the design (refuse, or hand the change to the running
// server), the CLI must never report success for an account that does not work or is lost.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusProcess, makeTempDir, runCli, writeConfig } from '../../support/chorus-process.ts';
import { connectClient } from '../../support/xmpp-client.ts';

describe('lifecycle: account commands while the server runs on the same data directory', function () {
  this.timeout(90_000);
  let dir: string;
  let server: ChorusProcess | null = null;

  before(async () => {
    dir = await makeTempDir('chorus-lifecycle-');
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('adduser is either refused with a reason, or the account logs in at once and is still there after a restart', async () => {
    const config = await writeConfig(dir, {
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      hosts: [{ domain: 'localhost' }],
      listeners: [{ type: 'http', address: '127.0.0.1', port: 0 }],
      shutdownGraceSeconds: 1,
    });
    expect((await runCli(['adduser', 'first@localhost', '--password', 'one', '--config', config])).code).to.equal(0);
    server = await ChorusProcess.start(config);
    const wsUrl = `ws://127.0.0.1:${server.port('http')}/xmpp-websocket`;

    const add = await runCli(['adduser', 'second@localhost', '--password', 'two', '--config', config]);
    if (add.code !== 0) {
      // Refusing is fine, with a reason and without touching the data.
      expect(add.stderr.trim(), 'a refusal says why').to.not.equal('');
      expect(add.stderr).to.not.match(/^\s+at /m);
    } else {
      expect(add.stdout).to.include('created second@localhost');
      let loginError: unknown = null;
      try {
        const c = await connectClient({ service: wsUrl, username: 'second', password: 'two' });
        await c.stop();
      } catch (err) {
        loginError = (err as { condition?: string }).condition ?? err;
      }
      expect(loginError, 'the CLI said "created", so the running server must accept the account').to.equal(null);
    }

    server.signal('SIGTERM');
    expect((await server.waitExit(10_000)).code).to.equal(0);
    server = null;
    const users = await runCli(['users', 'localhost', '--config', config]);
    const listed = users.stdout.trim().split('\n');
    expect(listed).to.include('first@localhost');
    // The server's shutdown must not discard what the CLI reported as created.
    if (add.code === 0) expect(listed, 'an account the CLI reported as created').to.include('second@localhost');
    else expect(listed).to.not.include('second@localhost');
  });
});
