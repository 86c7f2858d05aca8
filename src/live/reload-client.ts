/**
 * The browser side of live reload: a small inline script added to HTML
 * responses in development. It listens on the server's event stream and
 *   - `reload` (a file the page depends on changed): imports the update
 *     module (update-client.ts, fetched once, cached) which morphs the page
 *     in place or shows a note, an error overlay; with `--live full` (`r`)
 *     reloads the page instead, unless it answered a form (a note then too);
 *   - `css`: swaps the matching `<link rel=stylesheet>` in place (a fresh
 *     `?__kts=` query), keeping the old sheet until the new one has loaded, so
 *     the page neither flashes nor loses its state; with no match every
 *     same-origin sheet is refreshed (the file may be `@import`ed);
 *   - `asset`: reloads if a `<script src>` names the file, refreshes matching `<img>`.
 * At load it notes the server's open state of each `<details>` (an update
 * keeps what the user opened unless the source changed it); `next(config)`
 * is how the update module hands it the configuration of the answer the page
 * now shows (the stream is opened again from there).
 * Hidden tabs close their stream (browsers allow few connections per host)
 * and reopen it when shown again, saying which change they saw last: the
 * server then tells them at once if they missed one that concerns them.
 */

import { updatePath } from './update-client.js';

/** What the server tells the script about the page it is in. */
export interface ClientConfig {
  /** Event-stream URL path. */
  e: string;
  /** Server boot id: another one means the server restarted. */
  b: string;
  /** Last change the page reflects. */
  s: number;
  /** The page's file, relative to ROOT. */
  p: string;
  /** Other files the response used (Includes, translations), relative to ROOT. */
  d: string[];
  /** 1: the response is an error page. */
  x?: 1;
  /** 1: too many files to list: any change reloads. */
  a?: 1;
  /** Hash of the page's scripts and head assets: another one after an edit needs a full reload. */
  h: string;
  /** 1: `--live full`: reload on every change. */
  r?: 1;
  /** 1: the page answered a form (not GET/HEAD): never requested again by that method. */
  f?: 1;
}

const CLIENT = `(function (c) {
  if (window.__ktsLive) return;
  window.__ktsLive = 1;
  var seq = c.s, es = null, timer = 0, wait = 250, leaving = false, mod = null;
  var ds = document.getElementsByTagName('details');
  for (var i = 0; i < ds.length; i++) ds[i].__ktsOpen = ds[i].open;
  function url() {
    var q = 'b=' + c.b + '&s=' + seq + '&p=' + encodeURIComponent(c.p);
    for (var i = 0; i < c.d.length; i++) q += '&d=' + encodeURIComponent(c.d[i]);
    if (c.x) q += '&x=1';
    if (c.a) q += '&a=1';
    return c.e + '?' + q;
  }
  function stop() {
    clearTimeout(timer);
    if (es) { es.close(); es = null; }
  }
  function seen(ev) { var n = Number(ev.lastEventId); if (n > seq) seq = n; }
  function local(v, path) {
    if (!v) return null;
    var u = new URL(v, location.href);
    if (u.origin !== location.origin) return null;
    if (path !== null) { try { if (decodeURIComponent(u.pathname) !== path) return null; } catch (e) { return null; } }
    return u;
  }
  function fresh(u) { u.searchParams.set('__kts', Date.now().toString(36)); return u.href; }
  function css(path) {
    var links = document.querySelectorAll('link[href]'), mine = [], all = [];
    for (var i = 0; i < links.length; i++) {
      var l = links[i];
      if (l.hasAttribute('data-kts-old') || !/(^|\\s)stylesheet(\\s|$)/i.test(l.rel)) continue;
      if (local(l.getAttribute('href'), null)) all.push(l);
      if (local(l.getAttribute('href'), path)) mine.push(l);
    }
    (mine.length ? mine : all).forEach(function (old) {
      var next = old.cloneNode(false);
      next.href = fresh(local(old.getAttribute('href'), null));
      old.setAttribute('data-kts-old', '');
      next.onload = next.onerror = function () { old.remove(); };
      old.after(next);
    });
  }
  function asset(path) {
    var s = document.querySelectorAll('script[src]');
    for (var i = 0; i < s.length; i++) if (local(s[i].getAttribute('src'), path)) return reload();
    var im = document.querySelectorAll('img[src]');
    for (var j = 0; j < im.length; j++) { var u = local(im[j].getAttribute('src'), path); if (u) im[j].src = fresh(u); }
  }
  function reload() { leaving = true; stop(); location.reload(); }
  function change() {
    if (c.r && !c.f) return reload();
    leaving = true;
    stop();
    (mod ? Promise.resolve(mod) : import('__UPDATE__')).then(function (m) { mod = m; return m.update(c, { reload: reload, next: next }); }).catch(function (e) { console.error(e); if (!c.f) reload(); });
  }
  function next(n) { c = n; seq = n.s; leaving = false; wait = 250; connect(); }
  function on(name, fn) {
    es.addEventListener(name, function (ev) { seen(ev); var d = {}; try { d = JSON.parse(ev.data); } catch (e) {} fn(d); });
  }
  function connect() {
    if (es || leaving || document.visibilityState === 'hidden') return;
    es = new EventSource(url());
    es.onopen = function () { wait = 250; };
    on('reload', change);
    on('css', function (d) { css(d.url); });
    on('asset', function (d) { asset(d.url); });
    es.onerror = function () {
      stop();
      if (!leaving) timer = setTimeout(connect, wait);
      wait = Math.min(wait * 2, 4000);
    };
  }
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') stop(); else connect(); });
  addEventListener('pagehide', stop);
  addEventListener('pageshow', function (ev) { if (ev.persisted) { leaving = false; connect(); } });
  connect();
})`;

// (In CLIENT, `mod` keeps the update module once loaded: the next change calls it at once, its
// fetch starting in the event's task rather than after another import().)

let compact: string | undefined;

/** The `<script>` element for a page: inline, its configuration safe inside HTML. */
export function clientScript(config: ClientConfig): string {
  // Without its indentation (a smaller page; lines are kept).
  compact ??= CLIENT.replace(/^\s+/gm, '').replace('__UPDATE__', updatePath());
  const json = JSON.stringify(config).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<script data-karrigell-live>${compact}(${json});</script>`;
}

/** Inserts `script` before the last `</body>`, or at the end when there is none. */
export function injectScript(html: string, script: string): string {
  let at = html.lastIndexOf('</body>');
  if (at < 0) at = html.lastIndexOf('</BODY>');
  if (at < 0) {
    const m = /<\/body\s*>(?![\s\S]*<\/body\s*>)/i.exec(html);
    at = m ? m.index : -1;
  }
  return at < 0 ? html + script : html.slice(0, at) + script + html.slice(at);
}
