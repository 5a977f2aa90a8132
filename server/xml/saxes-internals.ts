// The saxes 6 internals Chorus relies on, in one place. saxes' typings mark them private;
// test/unit/xml pins the version and the behaviour that depends on them.
import type { SaxesOptions, SaxesParser, SaxesTagNS, XMLDecl } from 'saxes';

/**
 * The fields saxes' on() writes (saxes.js EVENT_NAME_TO_HANDLER_NAME). Set them directly, all
 * of them, in this order, with member assignments (`slots.textHandler = (t) => ...`):
 *  - on() stores through a computed key, and after six such stores V8 turns the parser into a
 *    dictionary-mode object, which made parsing 5× slower (measured);
 *  - an arrow function written as an object-literal property gets a name, and tsx (esbuild
 *    keepNames) then redefines that name, leaving each such closure with a ~250-byte property
 *    dictionary; a member assignment names nothing.
 * saxes calls some handlers without `this`, so they are closures over their owner.
 */
export interface SaxesHandlerSlots {
  xmldeclHandler: (decl: XMLDecl) => void;
  textHandler: (text: string) => void;
  piHandler: () => void;
  doctypeHandler: () => void;
  commentHandler: () => void;
  openTagHandler: (tag: SaxesTagNS) => void;
  closeTagHandler: () => void;
  cdataHandler: (text: string) => void;
  errorHandler: (err: Error) => void;
}

/** Parser state read between slices for bounded memory and early rejection. */
export interface SaxesInternals {
  /** State number (saxes.js S_* constants, see stream-parser.ts). */
  state: number;
  /** Character data collected since the last event. */
  text: string;
  /** The current input string. */
  chunk: string;
  /** Characters written before `chunk` (used only for positions, which Chorus turns off). */
  chunkPosition: number;
  /** Index in `chunk` after the last character read, and before it. */
  i: number;
  prevI: number;
  /** Name of the entity reference being read. */
  entity: string;
  /** The tag being opened, or the last one closed (kept until the next tag opens). */
  tag: object | null;
  /** Reset to a fresh document (public in saxes.js, undocumented). */
  _init(): void;
}

export function handlerSlots(sax: SaxesParser<SaxesOptions>): SaxesHandlerSlots {
  return sax as unknown as SaxesHandlerSlots;
}

export function internals(sax: SaxesParser<SaxesOptions>): SaxesInternals {
  return sax as unknown as SaxesInternals;
}
