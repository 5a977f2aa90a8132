import { expect } from 'chai';
import { SaslFailure } from '../../../server/errors.ts';
import {
  availableMechanisms, startMechanism, SUPPORTED_CHANNEL_BINDINGS, MECHANISMS, isChannelBindingType, isAdvertisedChannelBinding,
} from '../../../server/sasl/mechanism.ts';
import { ScramExchange } from '../../../server/sasl/scram.ts';
import { PlainExchange } from '../../../server/sasl/plain.ts';
import { makeContext } from './sasl-fixtures.ts';

const ALL = [...MECHANISMS];

function conditionOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SaslFailure) return err.condition;
    throw err;
  }
  throw new Error('expected a SaslFailure');
}

describe('SASL mechanism registry', () => {
  describe('availableMechanisms', () => {
    it('offers everything, best first, on TLS with channel binding', () => {
      expect(availableMechanisms({ secure: true, channelBindings: ['tls-exporter'], enabled: ALL })).to.deep.equal([
        'SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN',
      ]);
    });

    it('drops -PLUS without channel-binding data', () => {
      expect(availableMechanisms({ secure: true, channelBindings: [], enabled: ALL })).to.deep.equal([
        'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN',
      ]);
    });

    it('drops PLAIN and -PLUS on an unencrypted stream', () => {
      expect(availableMechanisms({ secure: false, channelBindings: ['tls-exporter'], enabled: ALL })).to.deep.equal([
        'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1',
      ]);
    });

    it('offers only what is enabled, in preference order whatever the configured order', () => {
      expect(availableMechanisms({ secure: true, channelBindings: ['tls-server-end-point'], enabled: ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256-PLUS', 'DIGEST-MD5'] }))
        .to.deep.equal(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1', 'PLAIN']);
      expect(availableMechanisms({ secure: true, channelBindings: ['tls-exporter'], enabled: [] })).to.deep.equal([]);
    });

    it('does not offer -PLUS for tls-unique alone: it is accepted, never advertised', () => {
      const info = { secure: true, channelBindings: ['tls-unique'] as const, enabled: ALL };
      expect(availableMechanisms(info)).to.not.include('SCRAM-SHA-256-PLUS');
    });
  });

  describe('channel-binding types for XEP-0440', () => {
    it('lists tls-exporter and tls-server-end-point; tls-unique is known but not advertised', () => {
      expect(SUPPORTED_CHANNEL_BINDINGS).to.deep.equal(['tls-exporter', 'tls-server-end-point']);
      expect(isChannelBindingType('tls-exporter')).to.equal(true);
      expect(isChannelBindingType('tls-unique')).to.equal(true);
      expect(isAdvertisedChannelBinding('tls-unique')).to.equal(false);
      expect(isAdvertisedChannelBinding('tls-server-end-point')).to.equal(true);
      expect(isChannelBindingType('tls-unique-for-telnet')).to.equal(false);
    });
  });

  describe('startMechanism', () => {
    const withCb = makeContext({}, { channelBindings: { 'tls-exporter': Buffer.from('x') } });

    it('starts the SCRAM variant named', () => {
      for (const [name, hash, plus] of [
        ['SCRAM-SHA-1', 'SHA-1', false], ['SCRAM-SHA-256', 'SHA-256', false], ['SCRAM-SHA-512', 'SHA-512', false],
        ['SCRAM-SHA-1-PLUS', 'SHA-1', true], ['SCRAM-SHA-256-PLUS', 'SHA-256', true], ['SCRAM-SHA-512-PLUS', 'SHA-512', true],
      ] as const) {
        const ex = startMechanism(name, withCb);
        expect(ex).to.be.instanceOf(ScramExchange);
        expect((ex as ScramExchange).mechanism).to.equal(name);
        expect((ex as ScramExchange).hash).to.equal(hash);
        expect((ex as ScramExchange).plus).to.equal(plus);
      }
      expect(startMechanism('PLAIN', withCb)).to.be.instanceOf(PlainExchange);
    });

    it('refuses unknown names with invalid-mechanism (names are case-sensitive)', () => {
      for (const name of ['DIGEST-MD5', 'scram-sha-1', 'SCRAM-SHA-384', 'SCRAM-SHA-1-PLUS-PLUS', '', 'EXTERNAL']) {
        expect(conditionOf(() => startMechanism(name, withCb)), name).to.equal('invalid-mechanism');
      }
    });

    it('refuses PLAIN without TLS with encryption-required', () => {
      expect(conditionOf(() => startMechanism('PLAIN', makeContext({}, { secure: false })))).to.equal('encryption-required');
    });

    it('refuses -PLUS when the connection has no channel-binding data', () => {
      expect(conditionOf(() => startMechanism('SCRAM-SHA-256-PLUS', makeContext({})))).to.equal('invalid-mechanism');
    });

    it('refuses -PLUS when tls-unique is all the connection has (it is never offered for it alone)', () => {
      const onlyUnique = makeContext({}, { channelBindings: { 'tls-unique': Buffer.from('f') }, acceptTlsUnique: true });
      expect(conditionOf(() => startMechanism('SCRAM-SHA-256-PLUS', onlyUnique))).to.equal('invalid-mechanism');
    });

    it('refuses a mechanism that was not offered, when told what was', () => {
      expect(conditionOf(() => startMechanism('SCRAM-SHA-1', withCb, ['SCRAM-SHA-256']))).to.equal('invalid-mechanism');
      expect(conditionOf(() => startMechanism('PLAIN', withCb, ['SCRAM-SHA-256']))).to.equal('invalid-mechanism');
      expect(startMechanism('SCRAM-SHA-256', withCb, ['SCRAM-SHA-256'])).to.be.instanceOf(ScramExchange);
    });
  });
});
