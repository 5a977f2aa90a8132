// server/metrics.ts and the address rules of the metrics endpoint: the module API's
// get-or-create semantics, the mechanism label, the allow-list, and its configuration.
import { expect } from 'chai';
import { ServerMetrics } from '../../server/metrics.ts';
import { addressFilter, parseAddressBlock } from '../../server/net/address-block.ts';
import { ConfigError, validateConfig } from '../../server/config/load-config.ts';
import { MECHANISMS } from '../../server/sasl/mechanism.ts';
import { modules } from '../../xep/index.ts';
import { parseExposition, sampleKey } from '../support/prometheus.ts';

function newMetrics(): ServerMetrics {
  return new ServerMetrics({ mechanisms: MECHANISMS, enabled: ['SCRAM-SHA-1', 'PLAIN'] });
}

async function samples(m: ServerMetrics): Promise<Map<string, number>> {
  return parseExposition(await m.scrape()).samples;
}

describe('metrics', () => {
  describe('ServerMetrics', () => {
    it('counts stanzas into plain fields and shows them at scrape time', async () => {
      const m = newMetrics();
      for (const name of ['message', 'message', 'presence', 'iq', 'auth', 'starttls']) m.stanzasIn.count(name);
      m.stanzasOut.count('iq');
      const s = await samples(m);
      const rx = (kind: string) => s.get(sampleKey('chorus_c2s_stanzas_received_total', { kind }));
      const tx = (kind: string) => s.get(sampleKey('chorus_c2s_stanzas_sent_total', { kind }));
      expect([rx('message'), rx('presence'), rx('iq'), rx('other')]).to.deep.equal([2, 1, 1, 2]);
      expect([tx('message'), tx('presence'), tx('iq'), tx('other')]).to.deep.equal([0, 0, 1, 0]);
      // Scraping twice does not add the counts twice.
      expect((await samples(m)).get(sampleKey('chorus_c2s_stanzas_received_total', { kind: 'message' }))).to.equal(2);
    });

    it('labels a mechanism Chorus does not implement "unsupported" (clients choose the name)', async () => {
      const m = newMetrics();
      m.authenticated('PLAIN', 'success');
      m.authenticated('X-MADE-UP', 'failure');
      m.authenticated('x'.repeat(500), 'failure');
      const s = await samples(m);
      expect(s.get(sampleKey('chorus_c2s_auth_total', { mechanism: 'PLAIN', result: 'success' }))).to.equal(1);
      expect(s.get(sampleKey('chorus_c2s_auth_total', { mechanism: 'unsupported', result: 'failure' }))).to.equal(2);
      // The enabled mechanisms are there at zero; the others appear only once used.
      expect(s.get(sampleKey('chorus_c2s_auth_total', { mechanism: 'SCRAM-SHA-1', result: 'failure' }))).to.equal(0);
      expect(s.has(sampleKey('chorus_c2s_auth_total', { mechanism: 'SCRAM-SHA-256', result: 'success' }))).to.equal(false);
    });

    it('gives modules get-or-create metrics: the same one again, an error for another kind or labels', async () => {
      const m = newMetrics();
      const a = m.counter({ name: 'chorus_test_things_total', help: 'things', labelNames: ['kind'] });
      const b = m.counter({ name: 'chorus_test_things_total', help: 'things', labelNames: ['kind'] });
      expect(b).to.equal(a);
      a.inc({ kind: 'x' }, 3);
      expect((await samples(m)).get(sampleKey('chorus_test_things_total', { kind: 'x' }))).to.equal(3);
      expect(() => m.gauge({ name: 'chorus_test_things_total', help: 'things', labelNames: ['kind'] })).to.throw(/another kind or with other labels/);
      expect(() => m.counter({ name: 'chorus_test_things_total', help: 'things', labelNames: ['other'] })).to.throw(/another kind or with other labels/);
      expect(() => m.counter({ name: 'mam_writes_total', help: 'outside the namespace' })).to.throw(/start with 'chorus_'/);
      const h = m.histogram({ name: 'chorus_test_seconds', help: 'durations', buckets: [0.1, 1] });
      h.observe(0.5);
      expect((await samples(m)).get(sampleKey('chorus_test_seconds_bucket', { le: '1' }))).to.equal(1);
    });

    it('hands the archive module the counter the core declared', async () => {
      const m = newMetrics();
      const archive = m.counter({ name: 'chorus_archive_writes_total', help: 'archive writes' });
      expect(archive).to.equal(m.archiveWrites);
      archive.inc();
      expect((await samples(m)).get('chorus_archive_writes_total')).to.equal(1);
    });

    it('keeps servers apart: each has its own registry', async () => {
      const one = newMetrics();
      const two = newMetrics();
      one.offlineWrites.inc();
      expect((await samples(one)).get('chorus_offline_writes_total')).to.equal(1);
      expect((await samples(two)).get('chorus_offline_writes_total')).to.equal(0);
    });
  });

  describe('allowFrom', () => {
    it('parses addresses and CIDR blocks, and nothing else', () => {
      expect(parseAddressBlock('127.0.0.0/8')).to.deep.equal({ address: '127.0.0.0', prefix: 8, family: 'ipv4' });
      expect(parseAddressBlock('::1')).to.deep.equal({ address: '::1', prefix: 128, family: 'ipv6' });
      expect(parseAddressBlock('10.1.2.3')).to.deep.equal({ address: '10.1.2.3', prefix: 32, family: 'ipv4' });
      expect(parseAddressBlock('fd00::/8')).to.deep.equal({ address: 'fd00::', prefix: 8, family: 'ipv6' });
      for (const bad of ['localhost', '127.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '', '1.2.3.4/0x8']) {
        expect(parseAddressBlock(bad), bad).to.equal(undefined);
      }
    });

    it('matches loopback by default, in both families and in the IPv4-mapped form', () => {
      const allowed = addressFilter(['127.0.0.0/8', '::1']);
      for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) expect(allowed(a), a).to.equal(true);
      for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '::2', 'fe80::1', '', undefined, 'not-an-address']) expect(allowed(a), String(a)).to.equal(false);
    });

    it('is validated with the configuration', () => {
      const config = validateConfig({ hosts: [{ domain: 'example.org' }] }, modules);
      expect(config.metrics).to.deep.equal({ enabled: true, path: '/metrics', allowFrom: ['127.0.0.0/8', '::1'] });
      let problems: string[] = [];
      try {
        validateConfig({ hosts: [{ domain: 'example.org' }], metrics: { allowFrom: ['10.0.0.0/8', 'everyone'] } }, modules);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems = err.problems;
      }
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/metrics\.allowFrom\.1/);
    });
  });
});
