// The stanza type of the whole code base is ltx's Element (DESIGN.md: Dependencies).
import { Element, createElement, escapeXML, escapeXMLText } from 'ltx';

export { Element, escapeXML, escapeXMLText };
export type { Node } from 'ltx';

type Attrs = Record<string, string | undefined> | string | null;
type Child = Element | string | null | undefined | false | (Element | string | null | undefined | false)[];

/** Build an element: `x('iq', { type: 'result', id }, x('query', { xmlns: NS }))`. Falsy children are skipped. */
export function x(name: string, attrs?: Attrs, ...children: Child[]): Element {
  const flat: (Element | string)[] = [];
  for (const c of children) {
    if (Array.isArray(c)) {
      for (const d of c) if (d) flat.push(d);
    } else if (c) {
      flat.push(c);
    }
  }
  return createElement(name, attrs ?? undefined, ...flat);
}

/** A deep copy with its own attribute objects, so the copy's addresses can change alone. */
export function cloneElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs });
  for (const child of el.children) {
    if (typeof child === 'string') copy.children.push(child);
    else copy.cnode(cloneElement(child as Element));
  }
  return copy;
}
