// Blocklists across restarts (XEP-0191 §3.3: "applies across sessions") and on account removal.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { startTestServer } from '../../support/test-server.ts';
import { jid } from '../../../server/jid.ts';
import { User, condition } from './helpers.ts';

const PING = 'urn:xmpp:ping';

describe('blocking (XEP-0191): persistence and account removal', () => {
  it('a blocklist survives a restart of the server and is enforced at once', async () => {
    const first = await startTestServer({ storage: 'disk' });
    try {
      await first.addUser('alice', 'pw');
      await first.addUser('bob', 'pw');
      const alice = await User.login(first, 'alice', 'a');
      expect((await alice.block('bob@localhost', 'example.test')).attrs.type).to.equal('result');
      alice.close();
    } finally {
      await first.stop({ keepData: true });
    }
    const second = await startTestServer({ storage: 'disk', dataDir: first.dataDir });
    try {
      // Before alice logs in: the offline path reads the stored list.
      const bob = await User.login(second, 'bob', 'b');
      expect(condition(await bob.iq((id) => `<iq type='get' to='alice@localhost' id='${id}'><ping xmlns='${PING}'/></iq>`))).to.equal('service-unavailable');
      const alice = await User.login(second, 'alice', 'a');
      expect(await alice.blocklist()).to.deep.equal(['bob@localhost', 'example.test']);
      bob.send(`<message to='alice@localhost/a' id='m1'><body>x</body></message>`);
      expect(condition(await bob.next((e) => e.attrs.id === 'm1'))).to.equal('service-unavailable');
      alice.close();
      bob.close();
    } finally {
      await second.stop();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });

  it('removing an account deletes its blocklist; a new account of that name starts with none', async () => {
    const t = await startTestServer();
    try {
      await t.addUser('alice', 'pw');
      await t.addUser('bob', 'pw');
      const alice = await User.login(t, 'alice', 'a');
      expect((await alice.block('bob@localhost')).attrs.type).to.equal('result');
      const blocklists = t.server.store.collection('blocklists');
      expect(await blocklists.countDocuments({ _id: 'alice@localhost' })).to.equal(1);

      await t.server.accounts.remove(jid('alice', 'localhost'));
      await alice.raw.waitClosed();
      expect(await blocklists.countDocuments({ _id: 'alice@localhost' })).to.equal(0);

      await t.addUser('alice', 'pw');
      const bob = await User.login(t, 'bob', 'b');
      const ping = await bob.iq((id) => `<iq type='get' to='alice@localhost' id='${id}'><ping xmlns='${PING}'/></iq>`);
      expect(ping.attrs.type).to.equal('result');
      const again = await User.login(t, 'alice', 'a');
      expect(await again.blocklist()).to.deep.equal([]);
      again.close();
      bob.close();
    } finally {
      await t.stop();
    }
  });

  it('removing an account leaves the blocklists of others alone', async () => {
    const t = await startTestServer();
    try {
      for (const u of ['alice', 'bob']) await t.addUser(u, 'pw');
      const bob = await User.login(t, 'bob', 'b');
      expect((await bob.block('carol@localhost')).attrs.type).to.equal('result');
      bob.close();
      await t.server.accounts.remove(jid('alice', 'localhost'));
      const bobAgain = await User.login(t, 'bob', 'b2');
      expect(await bobAgain.blocklist()).to.deep.equal(['carol@localhost']);
      bobAgain.close();
    } finally {
      await t.stop();
    }
  });
});
