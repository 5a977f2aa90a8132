import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SLICE_BYTES, StreamParser } from '../../../server/xml/stream-parser.ts';
import type { Element } from '../../../server/xml/element.ts';
import { elementNs } from '../../../server/xml/element-builder.ts';
import { HEADER, errorAfterHeader, parse, parseChunks, record } from './helpers.ts';

const NS_STREAM = 'http://etherx.jabber.org/streams';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

// A realistic client stream: CRLFs, keepalives, multi-byte characters (2, 3 and 4 bytes),
// entities, CDATA, prefixes, a stream-level element, and the closing tag.
const STREAM =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "to='example.com' version='1.0' xml:lang='en'>\r\n" +
  "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMA==</auth>\n \t" +
  "<message to='romeo@example.net' type='chat' xml:lang='fr' note='a\r\nb'>" +
  '<body>Où es-tu, Roméo? 😀 日本 &lt;3 &amp; &#x263A; &#233;\r\nligne 2</body>' +
  "<![CDATA[<raw> & ]]><x:y xmlns:x='urn:x'><x:z/></x:y></message>   " +
  "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>\r\n" +
  "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>" +
  '</stream:stream>';

const STREAM_EVENTS = [
  'start',
  '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AGp1bGlldAByMG0zMA==</auth>',
  // CR LF becomes LF in text and one space in attributes (XML 1.0 §2.11, §3.3.3); the CDATA
  // section is character data of <message>, a sibling of <body>.
  '<message to="romeo@example.net" type="chat" xml:lang="fr" note="a b">' +
    '<body>Où es-tu, Roméo? 😀 日本 &lt;3 &amp; ☺ é\nligne 2</body>' +
    '&lt;raw&gt; &amp; <y xmlns="urn:x"><z/></y></message>',
  '<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>',
  '<error xmlns="http://etherx.jabber.org/streams"><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></error>',
  'end',
];

describe('StreamParser', () => {
  describe('a realistic stream', () => {
    const bytes = Buffer.from(STREAM);

    it('parses in one write', () => {
      expect(parse(bytes)).to.deep.equal(STREAM_EVENTS);
    });

    it('reports the header', () => {
      const r = record();
      r.parser.write(bytes);
      expect(r.headers).to.deep.equal([
        {
          name: 'stream',
          prefix: 'stream',
          uri: NS_STREAM,
          attrs: { to: 'example.com', version: '1.0', 'xml:lang': 'en' },
          namespaces: { '': 'jabber:client', stream: NS_STREAM },
        },
      ]);
    });

    it('gives the same events split in two at every byte boundary', () => {
      for (let i = 1; i < bytes.length; i++) {
        const events = parseChunks([bytes.subarray(0, i), bytes.subarray(i)]);
        expect(events, `split at ${i}`).to.deep.equal(STREAM_EVENTS);
      }
    });

    it('gives the same events fed one byte at a time', () => {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
      expect(parseChunks(chunks)).to.deep.equal(STREAM_EVENTS);
    });

    it('gives the same events split in three at every pair of boundaries 7 bytes apart', () => {
      for (let i = 1; i + 7 < bytes.length; i++) {
        const events = parseChunks([bytes.subarray(0, i), bytes.subarray(i, i + 7), bytes.subarray(i + 7)]);
        expect(events, `split at ${i}, ${i + 7}`).to.deep.equal(STREAM_EVENTS);
      }
    });

    it('accepts a UTF-8 byte order mark at the start', () => {
      const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
      expect(parse(withBom)).to.deep.equal(STREAM_EVENTS);
      expect(parseChunks([withBom.subarray(0, 2), withBom.subarray(2)])).to.deep.equal(STREAM_EVENTS);
    });

    it('parses a stream without XML declaration', () => {
      expect(parse(STREAM.replace("<?xml version='1.0'?>", ''))).to.deep.equal(STREAM_EVENTS);
    });
  });

  describe('namespace and prefix normalisation', () => {
    const one = (stanza: string, header = HEADER) => {
      const r = record();
      r.parser.write(Buffer.from(header + stanza));
      expect(r.errors).to.deep.equal([]);
      expect(r.elements).to.have.length(1);
      return r;
    };
    const norm = (stanza: string, header = HEADER) => one(stanza, header).events[1];

    it('gives a stanza in the content namespace no xmlns, declared or inherited', () => {
      expect(norm("<message to='a@b'/>")).to.equal('<message to="a@b"/>');
      expect(norm("<message xmlns='jabber:client' to='a@b'/>")).to.equal('<message to="a@b"/>');
    });

    it('keeps xmlns on a top-level element in another namespace', () => {
      expect(norm("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")).to.equal(
        '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>',
      );
    });

    it('turns stream:features into features in the streams namespace', () => {
      expect(norm("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")).to.equal(
        '<features xmlns="http://etherx.jabber.org/streams"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></features>',
      );
    });

    it('resolves a prefix declared on the stream header inside a stanza', () => {
      const header = HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server' xmlns:db='jabber:server:dialback'");
      expect(norm("<db:result from='a.example' to='b.example'>k3y</db:result>", header)).to.equal(
        '<result xmlns="jabber:server:dialback" from="a.example" to="b.example">k3y</result>',
      );
      expect(norm("<message from='a@a.example'><db:x/></message>", header)).to.equal(
        '<message from="a@a.example"><x xmlns="jabber:server:dialback"/></message>',
      );
      expect(norm("<message><stream:x/></message>")).to.equal(`<message><x xmlns="${NS_STREAM}"/></message>`);
    });

    it('normalises nested prefixes, rebinding and default namespace changes', () => {
      expect(
        norm(
          "<iq type='set' id='p1'><p:pubsub xmlns:p='http://jabber.org/protocol/pubsub'><p:publish node='n'>" +
            "<p:item><entry xmlns='http://www.w3.org/2005/Atom'><title>t</title><p:x/></entry></p:item>" +
            '</p:publish></p:pubsub></iq>',
        ),
      ).to.equal(
        '<iq type="set" id="p1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n">' +
          '<item><entry xmlns="http://www.w3.org/2005/Atom"><title>t</title><x xmlns="http://jabber.org/protocol/pubsub"/></entry></item>' +
          '</publish></pubsub></iq>',
      );
      expect(norm("<a:x xmlns:a='urn:1'><a:y xmlns:a='urn:2'><a:z/></a:y><a:w/></a:x>")).to.equal(
        '<x xmlns="urn:1"><y xmlns="urn:2"><z/></y><w/></x>',
      );
      expect(norm("<message><x xmlns='urn:a'><y/><z xmlns='jabber:client'/></x><body/></message>")).to.equal(
        '<message><x xmlns="urn:a"><y/><z xmlns="jabber:client"/></x><body/></message>',
      );
    });

    it('keeps xml: attributes and declares the prefix of other namespaced attributes', () => {
      const r = one("<message xml:lang='de'><x xmlns:p='urn:p' p:a='1' b='2'><y p:c='3'/></x></message>");
      expect(r.events[1]).to.equal(
        '<message xml:lang="de"><x p:a="1" xmlns:p="urn:p" b="2"><y p:c="3" xmlns:p="urn:p"/></x></message>',
      );
      const x = r.elements[0]!.getChild('x')!;
      expect(x.attrs).to.deep.equal({ 'p:a': '1', 'xmlns:p': 'urn:p', b: '2' });
      expect(x.getAttr('a', 'urn:p')).to.equal('1');
    });

    it('gives an element in no namespace inside a namespaced one xmlns=""', () => {
      expect(norm("<message><x xmlns=''/></message>")).to.equal('<message><x xmlns=""/></message>');
    });

    it('builds a tree with parents and merged text', () => {
      const r = one("<message><body>a&amp;b<![CDATA[c]]>d</body><thread>t</thread></message>");
      const msg = r.elements[0]!;
      expect(msg.parent).to.equal(null);
      const body = msg.getChild('body')!;
      expect(body.children).to.deep.equal(['a&bcd']);
      expect(body.parent).to.equal(msg);
      expect(msg.getChildText('thread')).to.equal('t');
    });

    it('elementNs() gives the content namespace when xmlns is absent', () => {
      const r = record();
      r.parser.write(Buffer.from(HEADER + "<message/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features/>"));
      const [msg, tls, features] = r.elements;
      expect(elementNs(msg!, 'jabber:client')).to.equal('jabber:client');
      expect(elementNs(tls!, 'jabber:client')).to.equal('urn:ietf:params:xml:ns:xmpp-tls');
      expect(elementNs(features!, 'jabber:client')).to.equal(NS_STREAM);
      expect(tls!.is('starttls', 'urn:ietf:params:xml:ns:xmpp-tls')).to.equal(true);
    });

    it('lets ltx find children by namespace', () => {
      const r = one("<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>");
      const q = r.elements[0]!.getChild('query', 'jabber:iq:roster')!;
      expect(q.getChild('item')!.getNS()).to.equal('jabber:iq:roster');
    });
  });

  describe('restricted XML (RFC 6120 §11.1)', () => {
    it('rejects a comment before the stream header', () => {
      expect(parse('<!-- hi -->' + HEADER)).to.deep.equal(['error:restricted-xml']);
    });
    it('rejects a comment between stanzas, after delivering the stanza before it', () => {
      expect(parse(HEADER + '<presence/><!-- x --><presence/>')).to.deep.equal(['start', '<presence/>', 'error:restricted-xml']);
    });
    it('rejects a comment inside a stanza', () => {
      expect(errorAfterHeader('<message><body>a<!-- x -->b</body></message>')).to.equal('restricted-xml');
    });
    it('rejects an unfinished comment as soon as it starts', () => {
      expect(errorAfterHeader('<message><!-- no end yet')).to.equal('restricted-xml');
    });
    it('rejects processing instructions', () => {
      expect(errorAfterHeader("<?foo bar?>")).to.equal('restricted-xml');
      expect(errorAfterHeader("<message><?foo bar?></message>")).to.equal('restricted-xml');
      expect(errorAfterHeader("<message><?foo bar")).to.equal('restricted-xml');
      expect(parse("<?foo?>" + HEADER)).to.deep.equal(['error:restricted-xml']);
    });
    it('rejects a DOCTYPE with an internal subset', () => {
      expect(parse("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>" + HEADER.slice(21))).to.deep.equal([
        'error:restricted-xml',
      ]);
      expect(parse("<!DOCTYPE stream [<!ENTITY x 'y'>")).to.deep.equal(['error:restricted-xml']);
      expect(errorAfterHeader('<!DOCTYPE x>')).to.equal('restricted-xml');
    });
    it('rejects entities other than the predefined five', () => {
      expect(errorAfterHeader('<message><body>&custom;</body></message>')).to.equal('restricted-xml');
      expect(errorAfterHeader('<message><body>&nbsp;</body></message>')).to.equal('restricted-xml');
      expect(errorAfterHeader("<message to='&nbsp;'/>")).to.equal('restricted-xml');
    });
    it('accepts the predefined entities and character references', () => {
      expect(parse(HEADER + "<message to='&apos;&quot;'><body>&lt;&gt;&amp;&#65;&#x42;</body></message>")[1]).to.equal(
        '<message to="&apos;&quot;"><body>&lt;&gt;&amp;AB</body></message>',
      );
    });
  });

  describe('ill-formed XML', () => {
    const cases: [string, string | Buffer][] = [
      ['unclosed attribute quote', "<message to='a@b><body>x</body></message>"],
      ['duplicate attribute', "<message to='a' to='b'/>"],
      ['duplicate attribute through prefixes', "<x xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>"],
      ['mismatched close tag', '<message><body>x</message>'],
      ['unquoted attribute', '<message to=a/>'],
      ['attribute without value', '<message to/>'],
      ['< in an attribute', "<message to='a<b'/>"],
      ['control character U+0001 in text', '<message><body>a\u0001</body></message>'],
      ['control character U+0001 in an attribute', "<message to='\u0001'/>"],
      ['NUL', '<message>\u0000</message>'],
      ['bare &', '<message><body>a & b</body></message>'],
      ['bare & without a later semicolon', '<message><body>fish & chips</body></message><presence/>'],
      ['bare & before a tag', '<message><body>a &</body></message>'],
      ['bad character reference', '<message><body>&#1;</body></message>'],
      [']]> in text', '<message><body>]]></body></message>'],
      ['XML declaration mid-stream', "<?xml version='1.0'?>"],
      ['invalid UTF-8 C3 28', Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e])],
      ['overlong 2-byte encoding of /', Buffer.from([0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e])],
      ['overlong 3-byte encoding', Buffer.from([0x3c, 0x61, 0x3e, 0xe0, 0x80, 0xaf, 0x3c, 0x2f, 0x61, 0x3e])],
      ['UTF-16 surrogate encoded in UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e])],
      ['code point above U+10FFFF', Buffer.from([0x3c, 0x61, 0x3e, 0xf4, 0x90, 0x80, 0x80, 0x3c, 0x2f, 0x61, 0x3e])],
      ['byte 0xFF', Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])],
      ['a lone continuation byte', Buffer.from([0x3c, 0x61, 0x3e, 0x80, 0x3c, 0x2f, 0x61, 0x3e])],
    ];
    for (const [name, body] of cases) {
      it(`rejects ${name} as not-well-formed`, () => {
        expect(errorAfterHeader(body)).to.equal('not-well-formed');
      });
    }

    it('rejects invalid UTF-8 split across writes', () => {
      const r = record();
      r.parser.write(Buffer.from(HEADER + '<message><body>'));
      r.parser.write(Buffer.from([0xc3]));
      expect(r.errors).to.deep.equal([]);
      r.parser.write(Buffer.from([0x28]));
      expect(r.events).to.deep.equal(['start', 'error:not-well-formed']);
    });

    it('delivers no element closed by a mismatched tag', () => {
      expect(parse(HEADER + '<presence/><message></body>')).to.deep.equal(['start', '<presence/>', 'error:not-well-formed']);
    });

    it('does not end the stream on a mismatched root close tag', () => {
      expect(parse(HEADER + '</stream:foo>')).to.deep.equal(['start', 'error:not-well-formed']);
    });

    it('rejects an unbound prefix as bad-namespace-prefix (RFC 6120 §4.9.3.2)', () => {
      expect(errorAfterHeader('<foo:bar/>')).to.equal('bad-namespace-prefix');
      expect(errorAfterHeader("<message p:x='1'/>")).to.equal('bad-namespace-prefix');
      expect(parse("<stream xmlns='jabber:client' s:x='1'>")).to.deep.equal(['error:bad-namespace-prefix']);
    });

    it('rejects non-whitespace text between stanzas as bad-format', () => {
      expect(parse(HEADER + '<presence/>hello<presence/>')).to.deep.equal(['start', '<presence/>', 'error:bad-format']);
      expect(parse(HEADER + 'hello')).to.deep.equal(['start', 'error:bad-format']);
      expect(parse(HEADER + '&amp;')).to.deep.equal(['start', 'error:bad-format']);
      expect(parse(HEADER + '<![CDATA[ ]]>')).to.deep.equal(['start', 'error:bad-format']);
    });

    it('reports one error and ignores all later input', () => {
      const r = record();
      r.parser.write(Buffer.from(HEADER + '<a><!-- --></a><b/>'));
      r.parser.write(Buffer.from('<presence/>'));
      expect(r.events).to.deep.equal(['start', 'error:restricted-xml']);
    });
  });

  describe('encodings (RFC 6120 §11.6)', () => {
    it('accepts an XML declaration naming UTF-8', () => {
      expect(parse(`<?xml version='1.0' encoding='UTF-8'?>` + HEADER.slice(21) + '<presence/>')).to.deep.equal(['start', '<presence/>']);
      expect(parse(`<?xml version="1.0" encoding="utf-8"?>` + HEADER.slice(21))).to.deep.equal(['start']);
    });
    it('rejects an XML declaration naming another encoding as unsupported-encoding', () => {
      expect(parse(`<?xml version='1.0' encoding='ISO-8859-1'?>` + HEADER.slice(21))).to.deep.equal(['error:unsupported-encoding']);
    });
    it('says unsupported-encoding when such a stream also carries non-UTF-8 bytes', () => {
      const latin1 = Buffer.from(`<?xml version='1.0' encoding='ISO-8859-1'?>` + HEADER.slice(21) + '<message><body>\u00e9</body></message>', 'latin1');
      expect(parse(latin1)).to.deep.equal(['error:unsupported-encoding']);
    });
    it('rejects UTF-16 as unsupported-encoding', () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER, 'utf16le')]);
      expect(parse(utf16)).to.deep.equal(['error:unsupported-encoding']);
    });
  });

  describe('size limits', () => {
    const MAX = 1000;
    /** A message of exactly `size` UTF-8 bytes, padded with `fill` (1 to 4 bytes each). */
    const messageOf = (size: number, fill = 'a') => {
      const open = "<message to='a@b'><body>";
      const close = '</body></message>';
      const fillBytes = Buffer.byteLength(fill);
      const pad = size - Buffer.byteLength(open + close);
      const n = Math.floor(pad / fillBytes);
      const s = open + fill.repeat(n) + 'a'.repeat(pad - n * fillBytes) + close;
      expect(Buffer.byteLength(s)).to.equal(size);
      return s;
    };

    for (const fill of ['a', 'é', '日', '😀']) {
      it(`accepts an element of exactly the limit and rejects one byte more (fill ${fill})`, () => {
        const ok = messageOf(MAX, fill);
        const over = messageOf(MAX + 1, fill);
        expect(parse(HEADER + ok, MAX)).to.deep.equal(['start', ok.replace(/'/g, '"')]);
        expect(parse(HEADER + over, MAX)).to.deep.equal(['start', 'error:policy-violation']);
        // The same, byte by byte: the count does not depend on how the bytes arrive.
        const bytes = Buffer.from(HEADER + '\r\n ' + ok + over);
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
        expect(parseChunks(chunks, MAX)).to.deep.equal(['start', ok.replace(/'/g, '"'), 'error:policy-violation']);
      });
    }

    it('does not count whitespace before an element', () => {
      const ok = messageOf(MAX);
      expect(parse(HEADER + '\n \t\r\n' + ok + ' \n' + ok, MAX)).to.deep.equal(['start', ok.replace(/'/g, '"'), ok.replace(/'/g, '"')]);
    });

    it('limits nesting depth (policy-violation)', () => {
      const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
      expect(parse(HEADER + nest(128))).to.deep.equal(['start', nest(128).replace('<a></a>', '<a/>')]);
      expect(parse(HEADER + nest(129))).to.deep.equal(['start', 'error:policy-violation']);
      const events: string[] = [];
      const shallow = new StreamParser(
        {
          streamStart: () => events.push('start'),
          element: (el) => events.push(el.toString()),
          streamEnd: () => events.push('end'),
          error: (e) => events.push('error:' + e.condition),
        },
        { maxElementBytes: MAX, maxDepth: 3 },
      );
      shallow.write(Buffer.from(HEADER + nest(3) + nest(4)));
      expect(events).to.deep.equal(['start', '<a><a><a/></a></a>', 'error:policy-violation']);
    });

    it('counts a self-closing top-level element', () => {
      const attr = 'x'.repeat(MAX - "<presence id=''/>".length);
      expect(parse(HEADER + `<presence id='${attr}'/>`, MAX)).to.deep.equal(['start', `<presence id="${attr}"/>`]);
      expect(parse(HEADER + `<presence id='${attr}x'/>`, MAX)).to.deep.equal(['start', 'error:policy-violation']);
    });

    it('rejects a huge element in one 10 MB buffer without parsing or holding all of it', () => {
      const max = 64 * 1024;
      const r = record(max);
      r.parser.write(Buffer.from(HEADER));
      const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
      Buffer.from('<message><body>').copy(huge);
      const before = process.memoryUsage().heapUsed;
      r.parser.write(huge);
      const grown = process.memoryUsage().heapUsed - before;
      expect(r.events).to.deep.equal(['start', 'error:policy-violation']);
      // Parsing stopped within one slice past the limit: about 80 kB of the 10 MB were decoded,
      // and the heap did not grow by anything like 10 MB (20 MB as a string).
      expect(r.parser.position).to.be.at.most(Buffer.byteLength(HEADER) + max + SLICE_BYTES);
      expect(grown).to.be.below(2 * 1024 * 1024);
    });

    it('rejects an overlong stream header, also fed in small pieces', () => {
      const header = HEADER.replace("to='example.com'", `to='${'x'.repeat(2000)}'`);
      expect(parse(header, MAX)).to.deep.equal(['error:policy-violation']);
      const r = record(MAX);
      const bytes = Buffer.from(header);
      for (let i = 0; i < bytes.length && r.errors.length === 0; i += 100) r.parser.write(bytes.subarray(i, i + 100));
      expect(r.events).to.deep.equal(['error:policy-violation']);
      expect(r.parser.position).to.be.at.most(MAX + 100);
    });

    it('rejects endless whitespace before the header', () => {
      const r = record(MAX);
      for (let i = 0; i < 20 && r.errors.length === 0; i++) r.parser.write(Buffer.alloc(100, ' '));
      expect(r.events).to.deep.equal(['error:policy-violation']);
    });

    it('rejects an overlong element name, attribute value or text while it arrives', () => {
      for (const body of ['<' + 'm'.repeat(5000), "<message to='" + 'x'.repeat(5000), '<message>' + 'y'.repeat(5000)]) {
        const r = record(MAX);
        r.parser.write(Buffer.from(HEADER));
        const bytes = Buffer.from(body);
        for (let i = 0; i < bytes.length; i += 64) r.parser.write(bytes.subarray(i, i + 64));
        expect(r.events, body.slice(0, 20)).to.deep.equal(['start', 'error:policy-violation']);
      }
    });

    it('does not let a small element kept for long hold its large input slice alive', () => {
      const kept: Element[] = [];
      const parser = new StreamParser(
        {
          streamStart() {},
          element(el) {
            if (el.name === 'presence') kept.push(el);
          },
          streamEnd() {},
          error(err) {
            throw err;
          },
        },
        { maxElementBytes: 1 << 20 },
      );
      parser.write(Buffer.from(HEADER));
      const filler = "<iq type='result' id='0123456789abcdef'/>".repeat(800); // ~32 kB: two full slices
      const before = heapAfterGc();
      for (let i = 0; i < 200; i++) {
        parser.write(Buffer.from(`<presence id='presence-number-${i}'><status>Away from the keyboard, back soon</status></presence>` + filler));
      }
      const perKept = (heapAfterGc() - before) / kept.length;
      expect(kept).to.have.length(200);
      expect(perKept).to.be.below(2048); // each would hold a 16 kB slice without detaching
      expect(kept[7]!.attrs.id).to.equal('presence-number-7');
    });

    it('never accumulates whitespace keepalives', () => {
      const r = record(MAX);
      r.parser.write(Buffer.from(HEADER));
      // 10 MB of keepalives in 1 kB writes, far above the element limit.
      const ka = Buffer.alloc(1024, ' \n\t');
      for (let i = 0; i < 10 * 1024; i++) r.parser.write(ka);
      const internal = (r.parser as unknown as { slot: { sax: { text: string } } }).slot.sax;
      expect(internal.text).to.equal('');
      r.parser.write(Buffer.from(' <presence/> '));
      expect(r.events).to.deep.equal(['start', '<presence/>']);
    });
  });

  describe('stream restarts and the end of the stream', () => {
    it('reset() from inside element() restarts after that element and discards the rest of the write', () => {
      const r = record();
      r.onElement = (el) => {
        if (el.name === 'proceed') r.parser.reset();
      };
      r.parser.write(Buffer.from(HEADER + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message>injected</message>"));
      expect(r.events).to.deep.equal(['start', '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>']);
      r.parser.write(Buffer.from(HEADER + '<presence/>'));
      expect(r.events).to.deep.equal(['start', '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>', 'start', '<presence/>']);
    });

    it('reset() gives a fresh decoder and document', () => {
      const r = record();
      r.parser.write(Buffer.concat([Buffer.from(HEADER + '<message><body>'), Buffer.from([0xc3])]));
      r.parser.reset();
      // The held-back 0xC3 is gone: a continuation byte now would be invalid, but a fresh header is fine.
      r.parser.write(Buffer.from(HEADER.replace('jabber:client', 'jabber:server') + '<message/>'));
      expect(r.events).to.deep.equal(['start', 'start', '<message/>']);
      expect(r.headers[1]!.namespaces['']).to.equal('jabber:server');
    });

    it('reset() makes a parser usable again after an error or the end', () => {
      const r = record();
      r.parser.write(Buffer.from(HEADER + '<!-- -->'));
      r.parser.reset();
      r.parser.write(Buffer.from(HEADER + '<presence/></stream:stream>'));
      r.parser.reset();
      r.parser.write(Buffer.from(HEADER + '<iq/>'));
      expect(r.events).to.deep.equal(['start', 'error:restricted-xml', 'start', '<presence/>', 'end', 'start', '<iq/>']);
    });

    it('parses nothing after </stream:stream>', () => {
      const r = record();
      r.parser.write(Buffer.from(HEADER + '<presence/></stream:stream> junk <message/><!-- -->'));
      r.parser.write(Buffer.from('<more/>'));
      expect(r.events).to.deep.equal(['start', '<presence/>', 'end']);
    });

    it('ends a stream whose header closes itself', () => {
      expect(parse(HEADER.replace(/>$/, '/>'))).to.deep.equal(['start', 'end']);
    });

    it('stop() ignores later input and may be called from a handler', () => {
      const r = record();
      r.onElement = () => r.parser.stop();
      r.parser.write(Buffer.from(HEADER + '<presence/><presence/>'));
      r.parser.write(Buffer.from('<presence/>'));
      expect(r.events).to.deep.equal(['start', '<presence/>']);
    });

    it('refuses to be written from its own handler', () => {
      const r = record();
      r.onElement = () => r.parser.write(Buffer.from('<x/>'));
      expect(() => r.parser.write(Buffer.from(HEADER + '<presence/>'))).to.throw(/own handlers/);
    });
  });

  describe('hibernate()', () => {
    const hibernating = (chunks: Buffer[]) => {
      const r = record();
      let slept = 0;
      for (const c of chunks) {
        r.parser.write(c);
        if (r.parser.hibernate()) slept++;
      }
      return { events: r.events, slept };
    };

    it('gives the same events when it hibernates after every write it can', () => {
      const bytes = Buffer.from(STREAM);
      for (let i = 1; i < bytes.length; i += 3) {
        const { events } = hibernating([bytes.subarray(0, i), bytes.subarray(i)]);
        expect(events, `split at ${i}`).to.deep.equal(STREAM_EVENTS);
      }
      const oneByOne: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) oneByOne.push(bytes.subarray(i, i + 1));
      const { events, slept } = hibernating(oneByOne);
      expect(events).to.deep.equal(STREAM_EVENTS);
      expect(slept).to.be.above(10); // between elements, and before the first byte
    });

    it('wakes with the header prefixes and root name in scope', () => {
      const header = HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server' xmlns:db='jabber:server:dialback'");
      const { events, slept } = hibernating([
        Buffer.from(header),
        Buffer.from("<db:result from='a.example' to='b.example'>k</db:result>"),
        Buffer.from('<message/>'),
        Buffer.from('</stream:stream>'),
      ]);
      expect(slept).to.equal(4); // after each stanza, and after the end (nothing left to hold)
      expect(events).to.deep.equal(['start', '<result xmlns="jabber:server:dialback" from="a.example" to="b.example">k</result>', '<message/>', 'end']);
    });

    it('refuses inside an element or a character, and keeps the limits', () => {
      const r = record(1000);
      r.parser.write(Buffer.from(HEADER + '<message><body>'));
      expect(r.parser.hibernate()).to.equal(false);
      r.parser.write(Buffer.from([0xc3]));
      r.parser.write(Buffer.from([0xa9]));
      r.parser.write(Buffer.from('</body></message>'));
      r.parser.write(Buffer.from([0xc3]));
      expect(r.parser.hibernate()).to.equal(false);
      r.parser.write(Buffer.from([0xa9]));
      expect(r.events).to.deep.equal(['start', '<message><body>é</body></message>', 'error:bad-format']);
      // Byte counts continue across a wake-up.
      const q = record(1000);
      q.parser.write(Buffer.from(HEADER));
      expect(q.parser.hibernate()).to.equal(true);
      q.parser.write(Buffer.from(`<presence id='${'x'.repeat(1000)}'/>`));
      expect(q.events).to.deep.equal(['start', 'error:policy-violation']);
    });

    it('keeps streams apart when they wake on each other’s parsers', () => {
      // Same root (one pooled parser serves both) and a root binding the prefix elsewhere.
      const a = record();
      const b = record();
      const c = record();
      const bound = (uri: string) => HEADER.replace("xmlns='jabber:client'", `xmlns='jabber:client' xmlns:x='${uri}'`);
      a.parser.write(Buffer.from(bound('urn:a')));
      b.parser.write(Buffer.from(bound('urn:a')));
      c.parser.write(Buffer.from(bound('urn:c')));
      for (const r of [a, b, c]) expect(r.parser.hibernate()).to.equal(true);
      for (let i = 0; i < 3; i++) {
        for (const [r, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
          r.parser.write(Buffer.from(`<message id='${name}${i}'><x:y/></message>`));
          expect(r.parser.hibernate()).to.equal(true);
        }
      }
      const expected = (name: string, uri: string) =>
        ['start', ...[0, 1, 2].map((i) => `<message id="${name}${i}"><y xmlns="${uri}"/></message>`)];
      expect(a.events).to.deep.equal(expected('a', 'urn:a'));
      expect(b.events).to.deep.equal(expected('b', 'urn:a'));
      expect(c.events).to.deep.equal(expected('c', 'urn:c'));
    });

    it('keeps streams apart while one holds its parser mid-element or fails', () => {
      const a = record();
      const b = record();
      for (const r of [a, b]) {
        r.parser.write(Buffer.from(HEADER));
        expect(r.parser.hibernate()).to.equal(true);
      }
      a.parser.write(Buffer.from("<message><body>half"));
      expect(a.parser.hibernate()).to.equal(false);
      b.parser.write(Buffer.from('<presence/>'));
      expect(b.parser.hibernate()).to.equal(true);
      a.parser.write(Buffer.from('</message>')); // mismatched: a fails
      b.parser.write(Buffer.from("<iq type='get' id='1'/>"));
      expect(b.parser.hibernate()).to.equal(true);
      b.parser.write(Buffer.from('</stream:stream>'));
      expect(a.events).to.deep.equal(['start', 'error:not-well-formed']);
      expect(b.events).to.deep.equal(['start', '<presence/>', '<iq type="get" id="1"/>', 'end']);
    });

    it('stays correct with more distinct roots than the idle pool keeps', () => {
      const streams = Array.from({ length: 40 }, (_, i) => {
        const r = record();
        r.parser.write(Buffer.from(HEADER.replace("xmlns='jabber:client'", `xmlns='jabber:client' xmlns:p='urn:${i}'`)));
        r.parser.hibernate();
        return r;
      });
      for (let round = 0; round < 2; round++) {
        streams.forEach((r) => {
          r.parser.write(Buffer.from('<p:q/>'));
          r.parser.hibernate();
        });
      }
      streams.forEach((r, i) => expect(r.events).to.deep.equal(['start', `<q xmlns="urn:${i}"/>`, `<q xmlns="urn:${i}"/>`]));
    });

    it('leaves an idle stream about 1 kB of heap', () => {
      const header = Buffer.from(HEADER);
      const stanza = Buffer.from("<message to='romeo@example.net'><body>hi</body></message>");
      const kept: StreamParser[] = [];
      const before = heapAfterGc();
      for (let i = 0; i < 2000; i++) {
        const p = new StreamParser({ streamStart() {}, element() {}, streamEnd() {}, error() {} }, { maxElementBytes: 65536 });
        p.write(header);
        p.write(stanza);
        expect(p.hibernate()).to.equal(true);
        kept.push(p);
      }
      const perStream = (heapAfterGc() - before) / kept.length;
      expect(perStream).to.be.below(1280); // ~3.5 kB awake
    });
  });

  describe('saxes internals it relies on', () => {
    it('runs on saxes 6.0.x', () => {
      const require = createRequire(import.meta.url);
      const pkg = JSON.parse(readFileSync(require.resolve('saxes/package.json'), 'utf8')) as { version: string };
      expect(pkg.version).to.match(/^6\.0\./);
    });

    it('keeps saxes and its handlers out of V8 dictionary mode (5× slower, 250 B per closure)', () => {
      v8.setFlagsFromString('--allow-natives-syntax');
      const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: unknown) => boolean;
      const r = record();
      r.parser.write(Buffer.from(HEADER + '<presence/>'));
      const sax = (r.parser as unknown as { slot: { sax: Record<string, unknown> } }).slot.sax;
      expect(hasFastProperties(sax)).to.equal(true);
      for (const k of Object.keys(sax).filter((k) => k.endsWith('Handler'))) {
        expect(hasFastProperties(sax[k]), k).to.equal(true);
      }
    });
  });
});
