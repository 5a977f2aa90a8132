// Types for ltx 3 (ships none). Only what Chorus uses is declared.
declare module 'ltx' {
  export type Node = Element | string;
  export class Element {
    constructor(name: string, attrs?: Record<string, string | undefined> | string);
    name: string;
    parent: Element | null;
    children: Node[];
    attrs: Record<string, string | undefined>;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    findNS(prefix?: string): string | undefined;
    getAttr(name: string, xmlns?: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildrenByFilter(filter: (child: Node) => boolean, recursive?: boolean): Node[];
    getText(): string;
    getChildText(name: string, xmlns?: string): string | null;
    root(): Element;
    up(): Element;
    c(name: string, attrs?: Record<string, string | undefined> | string): Element;
    cnode<T extends Node>(child: T): T;
    append(...nodes: Node[]): void;
    prepend(...nodes: Node[]): void;
    t(text: string): Element;
    remove(el: Element | string, xmlns?: string): Element;
    text(val?: string): string | Element;
    attr(name: string, val?: string): string | undefined | Element;
    toString(): string;
    write(writer: (chunk: string) => void): void;
  }
  export function escapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
  export function unescapeXML(s: string): string;
  export function clone<T extends Element>(el: T): T;
  export function equal(a: Element, b: Element): boolean;
  export function parse(xml: string): Element;
  export function createElement(
    name: string,
    attrs?: Record<string, string | undefined> | string | null,
    ...children: (Node | Node[] | null | undefined | false)[]
  ): Element;
}
