/**
 * The in-place update of live editing (SPEC §7, `--live in-place`): the
 * browser module the live-reload script imports when the first change that
 * concerns its page comes (a page load pays nothing for it). It is bundled
 * once with idiomorph (esbuild, minified) and served under `/__karrigell/`
 * at a URL that names its content, so a browser fetches it once and caches it.
 *
 * On a change it fetches the page again (GET, same cookies) and:
 *   - the answer is our development error page: an overlay over the current
 *     page shows it (open shadow root: the page's CSS cannot reach it), the
 *     page keeps its state underneath;
 *   - the page's scripts or `<head>` assets changed (the server's hash of
 *     them, `h`), the answer is not HTML, or it redirects: a full reload;
 *   - otherwise the body is morphed into the new one with idiomorph, keeping
 *     scroll, focus and caret, what the user typed or chose (unless the
 *     source changed that field's own value), open `<details>`, and every
 *     node and listener idiomorph can match (the page's JS state lives on).
 * A page that answered a POST is never fetched again: a note says it changed
 * and links to it (a GET).
 *
 * Why idiomorph (and not morphdom): it matches nodes by the ids they contain
 * and looks ahead among siblings for a node of the same tag, so inserting a
 * paragraph above an unkeyed form keeps the form's nodes (what the user typed,
 * focus); morphdom, without keys, matches by position and recreates the form.
 * It also restores the caret of a moved field and uses `moveBefore` where the
 * browser has it. Both were tried on the same cases in Chromium.
 */

/** The module's source: plain browser JavaScript (ES2020), bundled with idiomorph by esbuild. */
export const UPDATE_SOURCE = String.raw`
import { Idiomorph } from 'idiomorph';

// The hash of the scripts and head assets of the document shown (not of an error page shown over it).
var shownHash;
var FIELDS = 'input,textarea,select';
var STATE_ATTRS = /^(value|checked|selected|open)$/;

/** Called by the live-reload script; live = { next(config), reload() }. */
export function update(c, live) {
  if (shownHash === undefined) shownHash = c.h;
  // Never send a form again: say it changed, link to a GET.
  if (c.f) return note();
  return fetch(location.href, { headers: { accept: 'text/html', 'x-karrigell-live': '1' }, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
    if (res.redirected || !/^text\/html/i.test(res.headers.get('content-type') || '')) return live.reload();
    return res.text().then(function (text) {
      var doc = new DOMParser().parseFromString(text, 'text/html');
      var next = configOf(doc);
      if (!next) return live.reload();
      if (doc.body.hasAttribute('data-karrigell-error')) {
        overlay(doc);
        return live.next(next);
      }
      if (next.h !== shownHash || document.body.hasAttribute('data-karrigell-error')) return live.reload();
      remove('kts-overlay');
      morph(doc);
      live.next(next);
    });
  }, function () {
    // The server is away (restarting?): listen again; the stream says what to do when it is back.
    live.next(c);
  });
}

/** The configuration the server gave the new answer (its live-reload script's argument). */
function configOf(doc) {
  var s = doc.querySelector('script[data-karrigell-live]');
  if (!s) return null;
  var t = s.textContent, i = t.lastIndexOf('})({');
  try { return JSON.parse(t.slice(i + 3, t.lastIndexOf(')'))); } catch (e) { return null; }
}

/** What the markup says of a field's state (not what the user did to it); old: an element of the page shown. */
function serverState(el, old) {
  switch (el.tagName) {
    case 'INPUT': return /^(checkbox|radio)$/i.test(el.type) ? String(el.hasAttribute('checked')) : el.getAttribute('value');
    case 'TEXTAREA': return el.defaultValue;
    case 'SELECT': return [].map.call(el.options, function (o) { return o.value + (o.defaultSelected ? '+' : '-'); }).join('\n');
    case 'DETAILS': return old && '__ktsOpen' in el ? el.__ktsOpen : el.hasAttribute('open');
  }
  return undefined;
}

/** What the user made of a field. */
function userState(el) {
  if (el.tagName === 'SELECT') return [].map.call(el.options, function (o) { return o.selected; });
  return /^(checkbox|radio)$/i.test(el.type) ? el.checked : el.value;
}

function setUserState(el, v) {
  if (el.tagName === 'SELECT') [].forEach.call(el.options, function (o, i) { o.selected = !!v[i]; });
  else if (/^(checkbox|radio)$/i.test(el.type)) el.checked = v;
  else el.value = v;
}

function fieldKey(el) { return el.tagName + ' ' + (el.type || '') + ' ' + (el.name || el.id); }

/** Remembers the server's open state of the <details> in node (it or its descendants). */
function noteDetails(node) {
  if (node.nodeType !== 1) return;
  if (node.tagName === 'DETAILS') node.__ktsOpen = node.open;
  var ds = node.getElementsByTagName('details');
  for (var i = 0; i < ds.length; i++) ds[i].__ktsOpen = ds[i].open;
}

function morph(doc) {
  var x = scrollX, y = scrollY;
  var active = document.activeElement, sel = null;
  try { if (active && active.selectionEnd != null) sel = [active.selectionStart, active.selectionEnd, active.selectionDirection]; } catch (e) {}
  if (doc.title !== document.title) document.title = doc.title;
  // <style> in the head: changed in place (a change of any other head element reloads).
  var mine = document.head.getElementsByTagName('style'), theirs = doc.head.getElementsByTagName('style');
  for (var i = 0; i < Math.min(mine.length, theirs.length); i++) if (mine[i].textContent !== theirs[i].textContent) mine[i].textContent = theirs[i].textContent;

  // Fields with a name: if idiomorph cannot keep one (its markup moved too far), its state goes to its successor.
  var before = new Set(), saved = [];
  [].forEach.call(document.body.querySelectorAll(FIELDS), function (el) {
    before.add(el);
    if (el.name || el.id) saved.push({ el: el, key: fieldKey(el), server: serverState(el, true), user: userState(el) });
  });
  // The fields whose own value the source did not change keep what the user made of them.
  var keep = new WeakSet();
  Idiomorph.morph(document.body, doc.body, {
    morphStyle: 'outerHTML',
    callbacks: {
      beforeNodeMorphed: function (old, nu) {
        if (old.nodeType !== 1 || nu.nodeType !== 1 || old.tagName !== nu.tagName) return;
        if (old.tagName === 'OPTION') { if (keep.has(old.closest('select'))) keep.add(old); }
        else if (serverState(old, true) !== undefined && serverState(old, true) === serverState(nu, false)) keep.add(old);
      },
      afterNodeMorphed: function (old, nu) { if (old.tagName === 'DETAILS') old.__ktsOpen = nu.hasAttribute('open'); },
      afterNodeAdded: noteDetails,
      beforeAttributeUpdated: function (name, el) { return !(keep.has(el) && STATE_ATTRS.test(name)); },
    },
  });
  var taken = new Set();
  saved.forEach(function (s) {
    if (s.el.isConnected) return;
    var all = document.body.querySelectorAll(s.el.tagName);
    for (var j = 0; j < all.length; j++) {
      var el = all[j];
      if (before.has(el) || taken.has(el) || fieldKey(el) !== s.key || serverState(el, false) !== s.server) continue;
      taken.add(el);
      setUserState(el, s.user);
      if (s.el === active) active = el;
      break;
    }
  });
  if (active && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });
  if (sel && document.activeElement === active) try { active.setSelectionRange(sel[0], sel[1], sel[2]); } catch (e) {}
  if (scrollX !== x || scrollY !== y) scrollTo(x, y);
}

/** The shadow root of one of our own elements, after the body (a morph of the body never touches it). */
function host(tag) {
  var h = document.querySelector(tag);
  if (!h) {
    h = document.createElement(tag);
    document.documentElement.appendChild(h);
    h.attachShadow({ mode: 'open' });
  }
  return h.shadowRoot;
}

function remove(tag) {
  var h = document.querySelector(tag);
  if (h) h.remove();
}

var OVERLAY_STYLE = ':host{all:initial}.wrap{position:fixed;inset:0;z-index:2147483647;background:rgba(20,20,20,.55);overflow:auto;padding:4vh 16px}' +
  '.wrap .sheet{max-width:980px;margin:0 auto;border-radius:8px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.35)}' +
  '.bar{display:flex;justify-content:space-between;align-items:center;gap:12px;font:13px/1.4 system-ui,sans-serif;background:#fff3f2;color:#5f1410;padding:8px 24px}' +
  '.bar button{font:inherit;border:1px solid #d9a3a0;background:#fff;border-radius:4px;padding:2px 10px;cursor:pointer}';

/** The error page's own header and body (its stylesheet too), over the page. */
function overlay(doc) {
  var root = host('kts-overlay');
  var style = document.createElement('style');
  var own = doc.head.querySelector('style');
  // Ours last: the error page's margin:0 on .sheet must not undo the centring.
  style.textContent = (own ? own.textContent : '') + OVERLAY_STYLE;
  var wrap = document.createElement('div'), sheet = document.createElement('div'), bar = document.createElement('div'), close = document.createElement('button');
  wrap.className = 'wrap';
  sheet.className = 'sheet';
  sheet.setAttribute('role', 'alertdialog');
  bar.className = 'bar';
  bar.textContent = 'karrigell-ts: the last save broke this page. The page underneath keeps its state; the next good save removes this.';
  close.textContent = 'Hide';
  close.onclick = function () { remove('kts-overlay'); };
  bar.appendChild(close);
  [].forEach.call(doc.body.children, function (n) { if (n.tagName !== 'SCRIPT') sheet.appendChild(document.importNode(n, true)); });
  sheet.insertBefore(bar, sheet.children[1] || null);
  wrap.appendChild(sheet);
  root.replaceChildren(style, wrap);
}

/** A page that answered a form: a note, and a link that loads it with GET. */
function note() {
  var root = host('kts-note');
  root.innerHTML = '<style>:host{all:initial}div{position:fixed;right:16px;bottom:16px;z-index:2147483647;max-width:360px;font:14px/1.45 system-ui,sans-serif;background:#fffbe6;color:#3d3300;border:1px solid #e2c94f;border-radius:8px;padding:10px 14px;box-shadow:0 6px 24px rgba(0,0,0,.18)}a{color:#0b57d0;font-weight:600}</style>' +
    '<div role="status"><b>This page changed.</b> It answered a form, which is not sent again. <a>Load it with GET</a></div>';
  root.querySelector('a').href = location.href;
}
`;

import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { PACKAGE_DIR } from '../site.js';

let updatePathMemo: string | undefined;

/** The module's URL path: it names its content (idiomorph's and ours), so browsers may keep it for good. */
export function updatePath(): string {
  updatePathMemo ??= `/__karrigell/update-${createHash('sha1')
    .update(fs.readFileSync(createRequire(import.meta.url).resolve('idiomorph/dist/idiomorph.esm.js')))
    .update(UPDATE_SOURCE)
    .digest('hex')
    .slice(0, 12)}.js`;
  return updatePathMemo;
}

let bundled: Promise<string> | undefined;

/** The module's code, bundled and minified once per process (when the first page with the live script is served). */
export function updateModule(): Promise<string> {
  // esbuild is imported here, not at the top: a production server (which loads this room but never
  // serves the live script) then never loads esbuild's API (~10 MB of memory).
  bundled ??= import('esbuild')
    .then((esbuild) => esbuild.build({
      stdin: { contents: UPDATE_SOURCE, resolveDir: PACKAGE_DIR, loader: 'js', sourcefile: 'karrigell-live-update.js' },
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2020',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
    }))
    .then((r) => r.outputFiles[0]!.text);
  return bundled;
}
