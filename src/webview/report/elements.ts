// Builds DOM nodes from data without ever parsing it as HTML: text goes in as text nodes and
// attribute values through setAttribute, so a PVC called `<img onerror>` stays a string.

export type Child = Node | string | null | undefined | false;

export interface ElementProps {
  readonly className?: string;
  readonly id?: string;
  readonly testId?: string;
  /** Lets focus return to this control after its section is redrawn. */
  readonly focusKey?: string;
  readonly attrs?: Readonly<Record<string, string | undefined>>;
  readonly onClick?: (event: MouseEvent) => void;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string | number>> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

/** A real button (keyboard and screen reader support for free) that never submits anything. */
export function button(label: string, onClick: () => void, props: ElementProps = {}): HTMLButtonElement {
  const node = el('button', { ...props, onClick: () => onClick() }, label);
  node.type = 'button';
  return node;
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Redraws a region and puts keyboard focus back on the control the user was on. */
export function redrawKeepingFocus(region: Element, draw: () => void): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && region.contains(active) ? active.dataset.focusKey : undefined;
  draw();
  if (key === undefined) return;
  const again = [...region.querySelectorAll<HTMLElement>('[data-focus-key]')].find((n) => n.dataset.focusKey === key);
  again?.focus();
}

function applyProps(node: HTMLElement, props: ElementProps): void {
  if (props.className) node.className = props.className;
  if (props.id) node.id = props.id;
  if (props.testId) node.dataset.testid = props.testId;
  if (props.focusKey !== undefined) node.dataset.focusKey = props.focusKey;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined) node.setAttribute(name, value);
  }
  if (props.onClick) node.addEventListener('click', props.onClick);
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}
