// GET /metrics (docs/metrics.md): real logins over TCP and WebSocket, successful and failed,
// messages to an online and an offline account, then a scrape over HTTP whose every Chorus
// sample is checked against what the clients did; who may scrape; turning it off.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testCertificate, TEST_DOMAINS } from '../../support/test-certificate.ts';
import { Server } from '../../../server/server.ts';
import { validateConfig } from '../../../server/config/load-config.ts';
import { openStore } from '../../../server/storage/open-store.ts';
import { silentLogger } from '../../../server/log.ts';
import { modules } from '../../../xep/index.ts';
import type { Module } from '../../../server/module.ts';
import { RawClient, NS } from '../../support/raw-client.ts';
import { WsClient } from '../../support/ws-client.ts';
import { parseExposition, sampleKey, scrape, type Exposition } from '../../support/prometheus.ts';

const PLAIN = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** STARTTLS and SASL PLAIN, then the restarted stream's features: authenticated, no resource bound. */
async function authenticateOnly(port: number, user: string, password: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.open();
  await c.startTls();
  await c.open();
  c.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${PLAIN(user, password)}</auth>`);
  expect((await c.next()).name).to.equal('success');
  const features = await c.open();
  expect(features.getChild('bind', NS.bind)).to.not.equal(undefined);
  return c;
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.get(sampleKey(name, labels));
}

describe('metrics: the Prometheus endpoint', function () {
  this.timeout(30_000);
  const clients: { destroy?(): void; terminate?(): void }[] = [];
  let t: TestServer | null = null;

  afterEach(async () => {
    for (const c of clients.splice(0)) (c.destroy ?? c.terminate)!.call(c);
    await t?.stop();
    t = null;
  });

  it('counts sessions by transport and state, stanzas by kind, authentications by mechanism, offline and storage writes; process metrics are there', async () => {
    t = await startTestServer();
    const server = t;
    await server.addUser('alice', 'wonderland');
    await server.addUser('bob', 'builder');
    await server.addUser('carol', 'offline-for-now');
    const wsUrl = `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`;

    // TCP: one bound, one authenticated without a resource, one that failed twice (a wrong
    // password, then a mechanism Chorus does not have) and stays in negotiation.
    const aliceTcp = await RawClient.connect(server.c2sPort);
    clients.push(aliceTcp);
    await aliceTcp.login('alice', 'wonderland', 'tcp');
    clients.push(await authenticateOnly(server.c2sPort, 'alice', 'wonderland'));
    const failedTcp = await RawClient.connect(server.c2sPort);
    clients.push(failedTcp);
    expect((await rejected(failedTcp.login('alice', 'not-her-password'))).message).to.match(/not-authorized/);
    failedTcp.send(`<auth xmlns='${NS.sasl}' mechanism='X-UNHEARD-OF'/>`);
    const invalid = await failedTcp.next();
    expect(invalid.name).to.equal('failure');
    expect(invalid.getChild('invalid-mechanism')).to.not.equal(undefined);

    // WebSocket: SCRAM-SHA-1 (PLAIN is not offered on an unencrypted WebSocket), one bound, one failed.
    const bobWs = await WsClient.connect(wsUrl);
    clients.push(bobWs);
    const bobJid = await bobWs.login('bob', 'builder', 'web');
    const failedWs = await WsClient.connect(wsUrl);
    clients.push(failedWs);
    expect((await rejected(failedWs.login('bob', 'not-his-password'))).message).to.match(/not-authorized/);

    // A message to bob's session, one to carol who is offline (stored), then a ping: its answer
    // means the session's queue has handled both messages (they are processed in order).
    aliceTcp.send(`<message to='${bobJid}' type='chat' id='m1'><body>hello bob</body></message>`);
    expect((await bobWs.nextMatching((e) => e.name === 'message')).attrs.id).to.equal('m1');
    aliceTcp.send(`<message to='carol@localhost' type='chat' id='m2'><body>hello carol</body></message>`);
    aliceTcp.send(`<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect((await aliceTcp.nextMatching((e) => e.attrs.id === 'ping1')).attrs.type).to.equal('result');

    const reply = await scrape(server.httpPort);
    expect(reply.status).to.equal(200);
    expect(reply.contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const e = parseExposition(reply.body);

    expect(e.types.get('chorus_c2s_sessions')).to.equal('gauge');
    const sessions = (transport: string, state: string) => value(e, 'chorus_c2s_sessions', { transport, state });
    expect([sessions('tcp', 'negotiating'), sessions('tcp', 'authenticated'), sessions('tcp', 'bound')]).to.deep.equal([1, 1, 1]);
    expect([sessions('websocket', 'negotiating'), sessions('websocket', 'authenticated'), sessions('websocket', 'bound')]).to.deep.equal([1, 0, 1]);

    // Received: <starttls/> and <auth/> (other) on three TCP streams plus the second <auth/> of the
    // failed one, <auth/> and <response/> on both WebSockets; two binds and the ping; two messages.
    expect(e.types.get('chorus_c2s_stanzas_received_total')).to.equal('counter');
    const received = (kind: string) => value(e, 'chorus_c2s_stanzas_received_total', { kind });
    expect({ message: received('message'), presence: received('presence'), iq: received('iq'), other: received('other') }).to.deep.equal({
      message: 2,
      presence: 0,
      iq: 3,
      other: 2 + 2 + 3 + 2 + 2,
    });
    // Sent: features (3 per TCP stream that got past SASL or tried, 2 per WebSocket stream that
    // succeeded, 1 for the failed one), <proceed/>, <success/>/<failure/>, <challenge/>; the two
    // bind results and the ping result; the message to bob (carol's went to storage).
    const sent = (kind: string) => value(e, 'chorus_c2s_stanzas_sent_total', { kind });
    expect({ message: sent('message'), presence: sent('presence'), iq: sent('iq'), other: sent('other') }).to.deep.equal({
      message: 1,
      presence: 0,
      iq: 3,
      other: 5 + 5 + 5 + 4 + 3,
    });

    expect(e.types.get('chorus_c2s_auth_total')).to.equal('counter');
    const auth = (mechanism: string, result: string) => value(e, 'chorus_c2s_auth_total', { mechanism, result });
    expect(auth('PLAIN', 'success')).to.equal(2);
    expect(auth('PLAIN', 'failure')).to.equal(1);
    expect(auth('SCRAM-SHA-1', 'success')).to.equal(1);
    expect(auth('SCRAM-SHA-1', 'failure')).to.equal(1);
    expect(auth('unsupported', 'failure')).to.equal(1);
    // Every configured mechanism is there from the start, at zero when unused.
    expect(auth('SCRAM-SHA-256', 'success')).to.equal(0);
    expect(auth('SCRAM-SHA-512-PLUS', 'failure')).to.equal(0);

    expect(value(e, 'chorus_offline_writes_total')).to.equal(1);
    // Declared by the core for the archive module, which does not exist yet.
    expect(e.types.get('chorus_archive_writes_total')).to.equal('counter');
    expect(value(e, 'chorus_archive_writes_total')).to.equal(0);

    // Storage: carol's message was counted against her limit, then inserted: one of each.
    expect(e.types.get('chorus_storage_operation_duration_seconds')).to.equal('histogram');
    const offlineInsert = { collection: 'offline', operation: 'insertOne' };
    expect(value(e, 'chorus_storage_operation_duration_seconds_count', offlineInsert)).to.equal(1);
    expect(value(e, 'chorus_storage_operation_duration_seconds_count', { collection: 'offline', operation: 'countDocuments' })).to.equal(1);
    expect(value(e, 'chorus_storage_operation_duration_seconds_bucket', { ...offlineInsert, le: '+Inf' })).to.equal(1);
    expect(value(e, 'chorus_storage_operation_duration_seconds_sum', offlineInsert)).to.be.greaterThan(0).and.lessThan(5);
    // Credentials were read once for each SASL exchange that named an account (all but X-UNHEARD-OF).
    expect(value(e, 'chorus_storage_operation_duration_seconds_count', { collection: 'accounts', operation: 'findOne' })).to.equal(5);

    // The process: CPU, memory, event-loop lag, heap.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(value(e, name), name).to.be.a('number').and.at.least(0);
    }
    expect(value(e, 'process_resident_memory_bytes')).to.be.greaterThan(0);
  });

  it('closing a session takes it off the gauge; HEAD answers without a body', async () => {
    t = await startTestServer();
    await t.addUser('alice', 'wonderland');
    const alice = await RawClient.connect(t.c2sPort);
    clients.push(alice);
    await alice.login('alice', 'wonderland');
    let e = parseExposition((await scrape(t.httpPort)).body);
    expect(value(e, 'chorus_c2s_sessions', { transport: 'tcp', state: 'bound' })).to.equal(1);
    alice.send('</stream:stream>');
    await alice.waitClosed();
    e = parseExposition((await scrape(t.httpPort)).body);
    expect(value(e, 'chorus_c2s_sessions', { transport: 'tcp', state: 'bound' })).to.equal(0);

    const head = await scrape(t.httpPort, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
  });

  it('answers only the addresses in metrics.allowFrom, and refuses requests forwarded by a proxy', async () => {
    // The listener is on 127.0.0.1; a client bound to 127.0.0.2 reaches it from outside the list.
    t = await startTestServer({ config: { metrics: { allowFrom: ['127.0.0.1/32', '::1'] } } });
    expect((await scrape(t.httpPort)).status).to.equal(200);
    const outsider = await scrape(t.httpPort, { localAddress: '127.0.0.2' });
    expect(outsider.status).to.equal(403);
    expect(outsider.body).to.not.match(/chorus_/);
    // A reverse proxy on loopback would make every client look local.
    expect((await scrape(t.httpPort, { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).to.equal(403);
    expect((await scrape(t.httpPort, { headers: { forwarded: 'for=198.51.100.7' } })).status).to.equal(403);
  });

  it('by default the whole of 127.0.0.0/8 may scrape', async () => {
    t = await startTestServer();
    expect((await scrape(t.httpPort, { localAddress: '127.0.0.2' })).status).to.equal(200);
  });

  it("serves a module's own metrics, shared by its instances on every host; the archive counter is the core's", async () => {
    // A module started on each of the two test hosts counts its start-ups.
    const counting: Module = {
      name: 'metrics-probe',
      specs: ['none (a test module)'],
      setup(ctx) {
        ctx.metrics.counter({ name: 'chorus_probe_setups_total', help: 'module setups', labelNames: ['host'] }).inc({ host: ctx.host.domain });
        ctx.metrics.counter({ name: 'chorus_archive_writes_total', help: 'what MAM will do' }).inc();
      },
    };
    const cert = testCertificate();
    const dataDir = await mkdtemp(join(tmpdir(), 'chorus-test-'));
    const all = [...modules, counting];
    const config = validateConfig(
      {
        hosts: TEST_DOMAINS.map((domain) => ({ domain, certificate: { cert: cert.certFile, key: cert.keyFile } })),
        listeners: [{ type: 'http', address: '127.0.0.1', port: 0 }],
        dataDir,
      },
      all,
    );
    const server = new Server({ config, modules: all, log: silentLogger, store: await openStore({ kind: 'embedded', inMemory: true }) });
    await server.start();
    try {
      const e = parseExposition((await scrape(server.port('http'))).body);
      expect(e.types.get('chorus_probe_setups_total')).to.equal('counter');
      for (const host of TEST_DOMAINS) expect(value(e, 'chorus_probe_setups_total', { host }), host).to.equal(1);
      expect(value(e, 'chorus_archive_writes_total')).to.equal(TEST_DOMAINS.length);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('metrics.path moves the endpoint; metrics.enabled: false removes it (404)', async () => {
    t = await startTestServer({ config: { metrics: { path: '/internal/prometheus' } } });
    expect((await scrape(t.httpPort, { path: '/internal/prometheus' })).status).to.equal(200);
    expect((await scrape(t.httpPort)).status).to.equal(404);
    await t.stop();

    t = await startTestServer({ config: { metrics: { enabled: false } } });
    const off = await scrape(t.httpPort);
    expect(off.status).to.equal(404);
    expect(off.body).to.not.match(/chorus_/);
  });
});
