/**
 * Server-side JSX runtime (no React) for esbuild's automatic JSX transform
 * with `jsxImportSource: 'karrigell-ts'`. JSX renders eagerly: every element
 * is an HTML string marked `raw` as soon as it is created.
 */
import { escapeHtml, isRaw, raw, type RawHtml } from './html.js';

/** A function component: called with its props (children included). */
export type Component<P = any> = (props: P) => unknown;

/** Props of an element as the JSX transform passes them. */
export type Props = Record<string, unknown>;

/** Types of the JSX syntax checked by TypeScript. */
export declare namespace JSX {
  /** What a JSX expression evaluates to. */
  type Element = RawHtml;
  /** What may stand as a tag: an intrinsic tag name or a function component. */
  type ElementType = string | Component;
  /** Attributes every element accepts. */
  interface IntrinsicAttributes {
    key?: string | number | bigint | null | undefined;
  }
  /** Any lower-case element, with any attributes. */
  interface IntrinsicElements {
    [tagName: string]: IntrinsicAttributes & Props;
  }
  /** The prop that receives an element's children. */
  interface ElementChildrenAttribute {
    children: unknown;
  }
}

const VOID_ELEMENTS = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input',
  'link', 'meta', 'param', 'source', 'track', 'wbr',
]);

const NOT_ATTRIBUTES = new Set(['children', 'key', 'ref', 'dangerouslySetInnerHTML']);
const ATTRIBUTE_ALIASES: Record<string, string> = { className: 'class', htmlFor: 'for' };
const VALID_NAME = /^[^\s"'<>/=\u0000-\u001f\u007f]+$/;
const VALID_TAG = /^[A-Za-z][^\s"'<>/=\u0000-\u001f\u007f]*$/;

/** Renders its children: `<>…</>`. */
export function Fragment(props: { children?: unknown } | null): RawHtml {
  return raw(renderToString(props?.children));
}

/** Creates an element (called by compiled JSX); returns its HTML right away. */
export function jsx(type: string | Component, props: Props | null, _key?: unknown): RawHtml {
  const p = props ?? {};
  if (typeof type === 'function') return raw(renderToString(type(p)));
  if (typeof type !== 'string' || !VALID_TAG.test(type)) {
    throw new TypeError(`invalid JSX element type: expected a tag name or a function, got ${describe(type)}`);
  }
  const open = `<${type}${renderAttributes(p)}>`;
  if (VOID_ELEMENTS.has(type.toLowerCase())) return raw(open);
  return raw(`${open}${renderInner(p)}</${type}>`);
}

/** Same as `jsx`, for elements with several static children. */
export const jsxs = jsx;

/** Same as `jsx`, for esbuild's development JSX transform (`jsxDev`). */
export function jsxDEV(
  type: string | Component,
  props: Props | null,
  key?: unknown,
  _isStaticChildren?: boolean,
  _source?: unknown,
  _self?: unknown,
): RawHtml {
  return jsx(type, props, key);
}

/** Renders any child value to HTML: text is escaped, `raw()` kept, arrays joined, null/booleans dropped. */
export function renderToString(node: unknown): string {
  if (node == null || typeof node === 'boolean') return '';
  if (typeof node === 'string') return escapeHtml(node);
  if (typeof node === 'number' || typeof node === 'bigint') return String(node);
  if (isRaw(node)) return node.value;
  if (Array.isArray(node)) {
    let out = '';
    for (const child of node) out += renderToString(child);
    return out;
  }
  if (typeof node === 'object') {
    if (typeof (node as { then?: unknown }).then === 'function') {
      throw new TypeError('JSX cannot render a Promise: await the value first (async components are not supported)');
    }
    if (Symbol.iterator in node) return renderToString(Array.from(node as Iterable<unknown>));
  }
  return escapeHtml(String(node));
}

function renderInner(props: Props): string {
  const inner = props.dangerouslySetInnerHTML as { __html?: unknown } | null | undefined;
  if (inner != null) return inner.__html == null ? '' : String(inner.__html);
  return renderToString(props.children);
}

function renderAttributes(props: Props): string {
  let out = '';
  for (const name in props) {
    if (NOT_ATTRIBUTES.has(name)) continue;
    const value = props[name];
    if (value == null || value === false || typeof value === 'function' || typeof value === 'symbol') continue;
    const attr = ATTRIBUTE_ALIASES[name] ?? name;
    if (!VALID_NAME.test(attr)) continue;
    if (value === true) {
      out += ` ${attr}`;
      continue;
    }
    if (attr === 'style' && typeof value === 'object' && !isRaw(value)) {
      const css = renderStyle(value as Record<string, unknown>);
      if (css !== '') out += ` style="${escapeHtml(css)}"`;
      continue;
    }
    out += ` ${attr}="${attributeValue(value)}"`;
  }
  return out;
}

function attributeValue(value: unknown): string {
  // Trusted HTML keeps its entities, but a quote still cannot end the attribute.
  if (isRaw(value)) return value.value.replace(/"/g, '&quot;');
  return escapeHtml(String(value));
}

function renderStyle(style: Record<string, unknown>): string {
  let css = '';
  for (const key in style) {
    const value = style[key];
    if (value == null || value === false || value === '') continue;
    css += `${cssPropertyName(key)}:${String(value)};`;
  }
  return css;
}

function cssPropertyName(key: string): string {
  if (key.startsWith('--')) return key;
  const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return /^ms-/.test(kebab) ? `-${kebab}` : kebab;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
