/**
 * Server-side JSX runtime (no React) for esbuild's automatic JSX transform
 * with `jsxImportSource: 'karrigell-ts'`. JSX renders eagerly: every element
 * is an HTML string marked `raw` as soon as it is created.
 */
import { escapeHtml, isJavaScriptUrl, isRaw, raw, URL_ATTRIBUTES, type RawHtml } from './html.js';

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
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen',
  'link', 'meta', 'menuitem', 'param', 'source', 'track', 'wbr',
]);

/** Props that are not attributes (React's list; `defaultValue`/`defaultChecked` are read by the form elements). */
const NOT_ATTRIBUTES = new Set([
  'children', 'key', 'ref', 'dangerouslySetInnerHTML', 'defaultValue', 'defaultChecked',
  'innerHTML', 'suppressContentEditableWarning', 'suppressHydrationWarning',
]);

/** React's prop names whose attribute is spelt otherwise (react-dom's `aliases`, plus its special cases). */
const ATTRIBUTE_ALIASES: Record<string, string> = {
  className: 'class', htmlFor: 'for', tabIndex: 'tabindex', acceptCharset: 'accept-charset', httpEquiv: 'http-equiv',
  crossOrigin: 'crossorigin', xlinkHref: 'xlink:href', xlinkActuate: 'xlink:actuate', xlinkArcrole: 'xlink:arcrole',
  xlinkRole: 'xlink:role', xlinkShow: 'xlink:show', xlinkTitle: 'xlink:title', xlinkType: 'xlink:type',
  xmlBase: 'xml:base', xmlLang: 'xml:lang', xmlSpace: 'xml:space', xmlnsXlink: 'xmlns:xlink',
};
// SVG presentation attributes: camelCase prop, kebab-case attribute (e.g. strokeWidth → stroke-width).
for (const name of (
  'accentHeight alignmentBaseline arabicForm baselineShift capHeight clipPath clipRule colorInterpolation ' +
  'colorInterpolationFilters colorProfile colorRendering dominantBaseline enableBackground fillOpacity fillRule ' +
  'floodColor floodOpacity fontFamily fontSize fontSizeAdjust fontStretch fontStyle fontVariant fontWeight glyphName ' +
  'glyphOrientationHorizontal glyphOrientationVertical horizAdvX horizOriginX imageRendering letterSpacing lightingColor ' +
  'markerEnd markerMid markerStart maskType overlinePosition overlineThickness paintOrder pointerEvents renderingIntent ' +
  'shapeRendering stopColor stopOpacity strikethroughPosition strikethroughThickness strokeDasharray strokeDashoffset ' +
  'strokeLinecap strokeLinejoin strokeMiterlimit strokeOpacity strokeWidth textAnchor textDecoration textRendering ' +
  'transformOrigin underlinePosition underlineThickness unicodeBidi unicodeRange unitsPerEm vAlphabetic vHanging ' +
  'vIdeographic vMathematical vectorEffect vertAdvY vertOriginX vertOriginY wordSpacing writingMode xHeight'
).split(' ')) {
  ATTRIBUTE_ALIASES[name] = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** HTML boolean attributes (React's list): present as `name=""` when truthy, absent otherwise. Keyed in lower case. */
const BOOLEAN_ATTRIBUTES = new Set(
  ('allowFullScreen async autoFocus autoPlay checked controls credentialless default defer disabled ' +
    'disablePictureInPicture disableRemotePlayback formNoValidate hidden inert itemScope loop multiple muted noModule ' +
    'noValidate open playsInline readOnly required reversed scoped seamless selected')
    .toLowerCase()
    .split(' '),
);
/** Attributes that take `true` alone (`name=""`) or a value (React's "overloaded booleans"). */
const OVERLOADED_BOOLEANS = new Set(['capture', 'download']);
/** Attributes React writes only when they are a number ≥ 1. */
const POSITIVE_NUMBERS = new Set(['cols', 'rows', 'size', 'span']);
/** Attributes whose `true`/`false` are written as the strings "true"/"false" (besides aria-* and data-*). */
const BOOLEANISH = new Set(
  'contenteditable spellcheck draggable value autoreverse externalresourcesrequired focusable preservealpha'.split(' '),
);
/** CSS properties that take a bare number (react-dom's `unitlessNumbers`); every other number gets `px`. */
const UNITLESS_STYLES = new Set(
  ('animationIterationCount aspectRatio borderImageOutset borderImageSlice borderImageWidth boxFlex boxFlexGroup ' +
    'boxOrdinalGroup columnCount columns flex flexGrow flexPositive flexShrink flexNegative flexOrder gridArea gridRow ' +
    'gridRowEnd gridRowSpan gridRowStart gridColumn gridColumnEnd gridColumnSpan gridColumnStart fontWeight lineClamp ' +
    'lineHeight opacity order orphans scale tabSize widows zIndex zoom fillOpacity floodOpacity stopOpacity ' +
    'strokeDasharray strokeDashoffset strokeMiterlimit strokeOpacity strokeWidth MozAnimationIterationCount MozBoxFlex ' +
    'MozBoxFlexGroup MozLineClamp msAnimationIterationCount msFlex msZoom msFlexGrow msFlexNegative msFlexOrder ' +
    'msFlexPositive msFlexShrink msGridColumn msGridColumnSpan msGridRow msGridRowSpan WebkitAnimationIterationCount ' +
    'WebkitBoxFlex WebKitBoxFlexGroup WebkitBoxOrdinalGroup WebkitColumnCount WebkitColumns WebkitFlex WebkitFlexGrow ' +
    'WebkitFlexPositive WebkitFlexShrink WebkitLineClamp')
    .split(' '),
);
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
  const tag = type.toLowerCase();
  const open = `<${type}${renderAttributes(tag, p)}>`;
  if (VOID_ELEMENTS.has(tag)) return raw(open);
  return raw(`${open}${renderInner(tag, p)}</${type}>`);
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

/** Renders any child value to HTML: text is escaped, `raw()` kept, arrays joined; null, booleans, functions and symbols render nothing. */
export function renderToString(node: unknown): string {
  if (node == null || typeof node === 'boolean' || typeof node === 'function' || typeof node === 'symbol') return '';
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

function renderInner(tag: string, props: Props): string {
  const inner = props.dangerouslySetInnerHTML as { __html?: unknown } | null | undefined;
  if (inner != null) return inner.__html == null ? '' : String(inner.__html);
  if (tag === 'script' || tag === 'style') return rawText(tag, props.children);
  if (tag === 'textarea') {
    // React: the value (or default value) is the textarea's text.
    const value = props.value ?? props.defaultValue;
    const text = renderToString(props.children ?? (typeof value === 'function' || typeof value === 'symbol' ? null : value));
    return text.startsWith('\n') ? '\n' + text : text;
  }
  const children = renderToString(props.children);
  // The HTML parser drops a newline right after <pre>: a text that starts with one needs a second (React does the same).
  if ((tag === 'pre' || tag === 'listing') && children.startsWith('\n')) return '\n' + children;
  if (tag === 'select') {
    const value = props.value ?? props.defaultValue;
    if (value != null) return selectOptions(children, value);
  }
  return children;
}

/**
 * The text of a `<script>` or `<style>` element: written as is (the browser
 * does not decode entities there), except that `<script`/`</script` (or
 * `<style`…) cannot end the element: the `s` is written as a JavaScript
 * (`\u0073`) or CSS (`\73 `) escape, as React does. Trusted `raw()` text
 * is kept as it is.
 */
function rawText(tag: 'script' | 'style', children: unknown): string {
  const flat: unknown[] = [children].flat(Infinity);
  let out = '';
  for (const child of flat) {
    if (child == null || typeof child === 'boolean' || typeof child === 'function' || typeof child === 'symbol') continue;
    if (isRaw(child)) out += child.value;
    else out += tag === 'script' ? String(child).replace(/(<\/|<)(s)(cript)/gi, scriptEscape) : String(child).replace(/(<\/|<)(s)(tyle)/gi, styleEscape);
  }
  return out;
}

const scriptEscape = (_m: string, before: string, s: string, after: string): string => `${before}${s === 's' ? '\\u0073' : '\\u0053'}${after}`;
const styleEscape = (_m: string, before: string, s: string, after: string): string => `${before}${s === 's' ? '\\73 ' : '\\53 '}${after}`;

const OPTION = /<option\b((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*>([^<]*)/gi;
const VALUE_ATTRIBUTE = /\svalue="([^"]*)"/i;
const SELECTED_ATTRIBUTE = /\sselected(?:="[^"]*")?(?=\s|$)/i;

/**
 * Marks the options of a `<select value={…}>` selected, as React does. JSX
 * renders eagerly, so the options are HTML already when the select is made:
 * they are found in it (their value attribute, or their text).
 */
function selectOptions(html: string, value: unknown): string {
  const wanted = new Set((Array.isArray(value) ? value : [value]).map((v) => escapeHtml(String(v))));
  return html.replace(OPTION, (whole, attrs: string, text: string) => {
    const own = VALUE_ATTRIBUTE.exec(attrs);
    const optionValue = own ? own[1]! : text;
    if (!wanted.has(optionValue) || SELECTED_ATTRIBUTE.test(attrs)) return whole;
    return `<option${attrs} selected="">${text}`;
  });
}

function renderAttributes(tag: string, props: Props): string {
  let out = '';
  for (const name in props) {
    if (NOT_ATTRIBUTES.has(name)) continue;
    if ((tag === 'textarea' || tag === 'select') && name === 'value') continue;
    out += attribute(tag, name, props[name]);
  }
  if (tag === 'input') {
    // React: the default value and default checked state are the initial ones.
    if (props.value == null && props.defaultValue != null) out += attribute(tag, 'value', props.defaultValue);
    if (props.checked == null && props.defaultChecked != null) out += attribute(tag, 'checked', props.defaultChecked);
  }
  return out;
}

/** One attribute as written in a start tag (with its leading space), or '' when it is not written. */
function attribute(tag: string, name: string, value: unknown): string {
  if (value == null || typeof value === 'function' || typeof value === 'symbol') return '';
  const trusted = isRaw(value);
  // Event handlers are code: written only when marked trusted (React never writes them).
  if (name.length > 2 && /^on/i.test(name)) return trusted && VALID_NAME.test(name) ? ` ${name}="${attributeValue(value)}"` : '';
  const attr = ATTRIBUTE_ALIASES[name] ?? name;
  if (!VALID_NAME.test(attr)) return '';
  const lower = attr.toLowerCase();
  if (lower === 'style' && typeof value === 'object' && !trusted) {
    const css = renderStyle(value as Record<string, unknown>);
    return css === '' ? '' : ` style="${escapeHtml(css)}"`;
  }
  if (BOOLEAN_ATTRIBUTES.has(lower)) return value ? ` ${attr}` : '';
  if (OVERLOADED_BOOLEANS.has(lower) && typeof value === 'boolean') return value ? ` ${attr}` : '';
  if (typeof value === 'boolean') {
    if (BOOLEANISH.has(lower) || lower.startsWith('aria-') || lower.startsWith('data-')) return ` ${attr}="${value}"`;
    // Any other attribute (a custom one: `x-cloak`, `hx-boost` …): present when true.
    return value ? ` ${attr}` : '';
  }
  if (URL_ATTRIBUTES.has(lower)) {
    // React drops an empty src, and href but on <a> (it would load the page itself again).
    if (value === '' && (lower === 'src' || (lower === 'href' && tag !== 'a'))) return '';
    if (trusted) return ` ${attr}="${attributeValue(value)}"`;
    // Checked and written from one conversion (an object's toString could change between two).
    const url = String(value);
    return isJavaScriptUrl(url) ? '' : ` ${attr}="${escapeHtml(url)}"`;
  }
  // React: sizes below 1 and spans that are not numbers are not written.
  if (POSITIVE_NUMBERS.has(lower) && !(Number(value) >= 1)) return '';
  if ((lower === 'rowspan' || lower === 'start') && Number.isNaN(Number(value))) return '';
  // srcdoc is a whole HTML document run in the page's origin: trusted only.
  if (lower === 'srcdoc' && !trusted) return '';
  return ` ${attr}="${attributeValue(value)}"`;
}
function attributeValue(value: unknown): string {
  // Trusted HTML keeps its entities, but a quote still cannot end the attribute.
  if (isRaw(value)) return value.value.replace(/"/g, '&quot;');
  return escapeHtml(String(value));
}

function renderStyle(style: Record<string, unknown>): string {
  const css: string[] = [];
  for (const key in style) {
    const value = style[key];
    if (value == null || typeof value === 'boolean' || value === '' || typeof value === 'function' || typeof value === 'symbol') continue;
    css.push(`${cssPropertyName(key)}:${cssValue(key, value)}`);
  }
  return css.join(';');
}

/** A number gets `px` unless it is 0 or the property takes a bare number (React's rule). */
function cssValue(key: string, value: unknown): string {
  if (typeof value === 'number' && value !== 0 && !key.startsWith('--') && !UNITLESS_STYLES.has(key)) return `${value}px`;
  return String(value).trim();
}

function cssPropertyName(key: string): string {
  if (key.startsWith('--') || key.includes('-')) return key;
  const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return /^ms-/.test(kebab) ? `-${kebab}` : kebab;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
