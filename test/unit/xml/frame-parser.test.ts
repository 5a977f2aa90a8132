import { expect } from 'chai';
import { StreamError } from '../../../server/errors.ts';
import { parseFrame } from '../../../server/xml/frame-parser.ts';
import { elementToString } from '../../../server/xml/serialize.ts';
import { HEADER, parse } from './helpers.ts';

const MAX = 10_000;
const str = (frame: string, max = MAX) => elementToString(parseFrame(frame, max));

function conditionOf(frame: string, max = MAX): string {
  try {
    parseFrame(frame, max);
  } catch (e) {
    expect(e).to.be.instanceOf(StreamError);
    return (e as StreamError).condition;
  }
  throw new Error('no error for ' + frame);
}

describe('parseFrame (RFC 7395 §3.3.3)', () => {
  it('parses <open/> and <close/> in the framing namespace', () => {
    expect(str("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0' xml:lang='en'/>")).to.equal(
      '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.com" version="1.0" xml:lang="en"/>',
    );
    expect(str('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>')).to.equal(
      '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>',
    );
  });

  it('gives a jabber:client stanza no xmlns, declared or not', () => {
    expect(str('<message xmlns="jabber:client" to="a@b"><body>hi</body></message>')).to.equal(
      '<message to="a@b"><body>hi</body></message>',
    );
    expect(str('<message to="a@b"><body>hi</body></message>')).to.equal('<message to="a@b"><body>hi</body></message>');
  });

  it('normalises prefixes like the stream parser', () => {
    expect(
      str("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>"),
    ).to.equal('<features xmlns="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/></features>');
  });

  it('yields the same elements as the TCP stream parser', () => {
    const stanzas = [
      "<message to='romeo@example.net' type='chat' xml:lang='fr'><body>Roméo 😀 &amp; &#233;</body><x:y xmlns:x='urn:x'/></message>",
      "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>",
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQ=</auth>",
      "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>",
      "<enable xmlns='urn:xmpp:sm:3' resume='true'/>",
    ];
    const viaTcp = parse(HEADER + stanzas.join('')).slice(1);
    const viaWs = stanzas.map((s) => str(s.replace(/^<(message|iq|presence)/, "<$1 xmlns='jabber:client'")));
    expect(viaWs).to.deep.equal(viaTcp);
  });

  it('accepts whitespace around the element and an XML declaration', () => {
    expect(str('\n<presence/>\n')).to.equal('<presence/>');
    expect(str("<?xml version='1.0'?><presence/>")).to.equal('<presence/>');
  });

  it('rejects more than one element in a message as not-well-formed', () => {
    expect(conditionOf('<presence/><presence/>')).to.equal('not-well-formed');
    expect(conditionOf('<presence/>text')).to.equal('not-well-formed');
  });

  it('rejects empty, unclosed and ill-formed messages as not-well-formed', () => {
    expect(conditionOf('')).to.equal('not-well-formed');
    expect(conditionOf('   ')).to.equal('not-well-formed');
    expect(conditionOf('<message><body>')).to.equal('not-well-formed');
    expect(conditionOf("<message to='a' to='b'/>")).to.equal('not-well-formed');
    expect(conditionOf('<message><body>a & b</body></message>')).to.equal('not-well-formed');
    expect(conditionOf('<message></body>')).to.equal('not-well-formed');
    expect(conditionOf('<message>\u0001</message>')).to.equal('not-well-formed');
    expect(conditionOf("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'>")).to.equal('not-well-formed');
  });

  it('rejects restricted XML', () => {
    expect(conditionOf('<message><!-- x --></message>')).to.equal('restricted-xml');
    expect(conditionOf('<!-- x --><message/>')).to.equal('restricted-xml');
    expect(conditionOf('<?foo?><message/>')).to.equal('restricted-xml');
    expect(conditionOf("<!DOCTYPE message [<!ENTITY x 'y'>]><message>&x;</message>")).to.equal('restricted-xml');
    expect(conditionOf('<message>&nbsp;</message>')).to.equal('restricted-xml');
  });

  it('rejects an unbound prefix and a declared non-UTF-8 encoding', () => {
    expect(conditionOf('<p:message/>')).to.equal('bad-namespace-prefix');
    expect(conditionOf("<?xml version='1.0' encoding='ISO-8859-1'?><message/>")).to.equal('unsupported-encoding');
  });

  it('accepts a message of exactly maxBytes UTF-8 bytes and rejects one byte more', () => {
    for (const fill of ['a', 'é', '日', '😀']) {
      const frame = (bytes: number) => {
        const base = Buffer.byteLength('<body></body>');
        const n = Math.floor((bytes - base) / Buffer.byteLength(fill));
        const rest = bytes - base - n * Buffer.byteLength(fill);
        return '<body>' + fill.repeat(n) + 'a'.repeat(rest) + '</body>';
      };
      expect(Buffer.byteLength(frame(100))).to.equal(100);
      expect(parseFrame(frame(100), 100).getText()).to.have.length.above(0);
      expect(conditionOf(frame(101), 100)).to.equal('policy-violation');
    }
  });

  it('limits nesting depth', () => {
    const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(str(nest(128))).to.equal(nest(128).replace('<a></a>', '<a/>'));
    expect(conditionOf(nest(129))).to.equal('policy-violation');
  });

  it('stays usable after each kind of error', () => {
    for (const bad of ['<a><!-- --></a>', '<a>', '<a/><b/>', '<p:a/>', '<a>&x;</a>']) {
      conditionOf(bad);
      expect(str('<presence/>'), `after ${bad}`).to.equal('<presence/>');
    }
  });
});
