import { expect } from 'chai';
import { x } from '../../../server/xml/element.ts';
import { parseFrame } from '../../../server/xml/frame-parser.ts';
import { elementToString, escapeAttr, escapeText, streamClose, streamHeader } from '../../../server/xml/serialize.ts';

describe('serialize', () => {
  it('escapes & < > in text and & < > " \' in attributes', () => {
    expect(escapeText(`a&b<c>d"e'f`)).to.equal(`a&amp;b&lt;c&gt;d"e'f`);
    expect(escapeAttr(`a&b<c>d"e'f`)).to.equal('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(elementToString(x('a', { v: `"&'` }, '<]]>&'))).to.equal('<a v="&quot;&amp;&apos;">&lt;]]&gt;&amp;</a>');
  });

  it('keeps TAB, LF and CR in attributes and CR in text as character references', () => {
    expect(escapeAttr('a\tb\nc\rd')).to.equal('a&#9;b&#10;c&#13;d');
    expect(escapeText('a\tb\nc\r\nd')).to.equal('a\tb\nc&#13;\nd');
  });

  it('never emits characters XML forbids: they become U+FFFD', () => {
    expect(escapeText('a\u0000b\u0001c\u001fd\uFFFEe\uFFFF')).to.equal('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFD');
    expect(escapeText('lone \uD800 high, lone \uDC00 low')).to.equal('lone \uFFFD high, lone \uFFFD low');
    expect(escapeText('pair 😀 \uD83D\uDE00')).to.equal('pair 😀 😀');
    expect(escapeAttr('\u0002\uDBFF')).to.equal('\uFFFD\uFFFD');
  });

  it('returns the same string when nothing needs escaping', () => {
    const s = 'plain text, é 日本 😀';
    expect(escapeText(s)).to.equal(s);
    expect(escapeAttr(s)).to.equal(s);
  });

  it('writes elements, skipping null attributes, self-closing when empty', () => {
    const el = x('message', { to: 'a@b', type: undefined, id: '1' }, x('body', null, 'hi'), x('active', { xmlns: 'urn:x' }));
    expect(elementToString(el)).to.equal('<message to="a@b" id="1"><body>hi</body><active xmlns="urn:x"/></message>');
  });

  it('round-trips through the parser with awkward values', () => {
    const el = x('message', { to: 'a\tb\nc\rd"\'<>&' }, x('body', null, 'x\r\ny\rz <>&"\' 😀'));
    const back = parseFrame(elementToString(el), 10_000);
    expect(back.attrs.to).to.equal(el.attrs.to);
    expect(back.getChildText('body')).to.equal('x\r\ny\rz <>&"\' 😀');
  });

  it('writes the response stream header (RFC 6120 §4.7) and the close tag', () => {
    expect(streamHeader({ from: 'example.com', to: 'juliet@example.com', id: 't7AMCin9zjMNwQKDnplntZPIDEI=', version: '1.0', lang: 'en', contentNs: 'jabber:client' })).to.equal(
      "<?xml version='1.0'?><stream:stream xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\" " +
        'from="example.com" to="juliet@example.com" id="t7AMCin9zjMNwQKDnplntZPIDEI=" version="1.0" xml:lang="en">',
    );
    expect(streamHeader({ contentNs: 'jabber:server', from: 'a"b', xmlDeclaration: false })).to.equal(
      '<stream:stream xmlns="jabber:server" xmlns:stream="http://etherx.jabber.org/streams" from="a&quot;b">',
    );
    expect(streamClose).to.equal('</stream:stream>');
  });
});
