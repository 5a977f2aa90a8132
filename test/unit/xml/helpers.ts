// Test helpers for the XML parsers: record every event a StreamParser emits as a string.
import { StreamParser, type StreamHeader } from '../../../server/xml/stream-parser.ts';
import type { Element } from '../../../server/xml/element.ts';
import type { StreamError } from '../../../server/errors.ts';
import { elementToString } from '../../../server/xml/serialize.ts';

export const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>";

export interface Recorder {
  parser: StreamParser;
  events: string[];
  elements: Element[];
  headers: StreamHeader[];
  errors: StreamError[];
  /** Called after each element is recorded (lets a test reset or stop from inside a handler). */
  onElement?: (el: Element) => void;
}

export function record(maxElementBytes = 1 << 20): Recorder {
  const r: Recorder = {
    events: [],
    elements: [],
    headers: [],
    errors: [],
    parser: undefined as unknown as StreamParser,
  };
  r.parser = new StreamParser(
    {
      streamStart(h) {
        r.headers.push(h);
        r.events.push('start');
      },
      element(el) {
        r.elements.push(el);
        r.events.push(elementToString(el));
        r.onElement?.(el);
      },
      streamEnd() {
        r.events.push('end');
      },
      error(err) {
        r.errors.push(err);
        r.events.push('error:' + err.condition);
      },
    },
    { maxElementBytes },
  );
  return r;
}

/** Parse `input` fed as the given chunks; returns the recorded events. */
export function parseChunks(chunks: Buffer[], maxElementBytes?: number): string[] {
  const r = record(maxElementBytes);
  for (const c of chunks) r.parser.write(c);
  return r.events;
}

export function parse(input: string | Buffer, maxElementBytes?: number): string[] {
  return parseChunks([typeof input === 'string' ? Buffer.from(input) : input], maxElementBytes);
}

/** The condition of the (only) error when `body` follows a standard stream header. */
export function errorAfterHeader(body: string | Buffer): string | undefined {
  const events = parse(Buffer.concat([Buffer.from(HEADER), typeof body === 'string' ? Buffer.from(body) : body]));
  const errs = events.filter((e) => e.startsWith('error:'));
  if (errs.length > 1) throw new Error('more than one error: ' + errs.join(', '));
  return errs[0]?.slice('error:'.length);
}
