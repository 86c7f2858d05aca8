// The corpus of test/tsp-vs-ejs.test.ts: `.tsp` pages written with the tags
// EJS shares (`<% %>`, `<%= %>`, `<%- %>`, `<%# %>`, `<%%`), in code valid as
// TypeScript and as JavaScript, with the query they are requested with.

export interface TspCase {
  page: string;
  q?: Record<string, string>;
  /** Set when `.tsp` differs from EJS on purpose (safe by default, README): our normalised output. */
  ours?: string;
}

const XSS = `<b>"&'</b>`;

export const TSP_CASES: TspCase[] = [
  // Output tags: values as EJS writes them
  { page: '<p><%= "hi" %></p>' },
  { page: '<p><%= false %></p>' },
  { page: '<p><%= true %></p>' },
  { page: '<p><%= 0 %></p>' },
  { page: '<p><%= null %>|<%= undefined %></p>' },
  { page: '<p><%= [1, 2, 3] %></p>' },
  { page: '<p><%- [1, 2, 3] %></p>' },
  { page: '<p><%= ["<a>", "b"] %></p>' },
  { page: '<p><%= [1, [2, 3]] %></p>' },
  { page: '<p><%= [null, 1, undefined] %></p>' },
  { page: '<p><%= [] %></p>' },
  { page: '<p><%= {} %></p>' },
  { page: '<p><%= 1.5e3 %> <%= -0 %> <%= NaN %></p>' },
  { page: '<p><%= 10n %></p>' },
  { page: '<p><%- false %></p>' },
  { page: '<p><%- null %>|<%- undefined %></p>' },
  { page: '<p><%- 0 %></p>' },
  { page: '<p><%- "<b>x</b>" %></p>' },
  { page: '<p><%- `<i>${1 + 1}</i>` %></p>' },
  { page: '<p><%- 42 %></p>' },
  { page: '<p><%- "a" + "b" %></p>' },
  { page: '<p><%- true ? "<y>" : "n" %></p>' },
  { page: '<p><%= QUERY.t %></p>', q: { t: XSS } },
  { page: '<p title="<%= QUERY.t %>">x</p>', q: { t: XSS } },
  { page: '<p><%= QUERY.missing %></p>' },
  { page: '<p><%= "&amp;" %></p>' },
  { page: "<p><%= 'single' %></p>" },
  { page: '<p><%= `tpl ${2 * 3}` %></p>' },
  { page: '<p><%= new Date(0).toISOString() %></p>' },
  { page: '<p><%= JSON.stringify({ a: 1 }) %></p>' },
  { page: '<p><%= Math.max(1, 2) %></p>' },
  // A trailing `;`, empty tags, blanks in tags
  { page: '<p><%= "x"; %></p>' },
  { page: '<p><%- "<b>"; %></p>' },
  { page: '<p><%= "x" ;  %></p>' },
  { page: 'a<%= %>b' },
  { page: 'a<%- %>b' },
  { page: 'a<%=   %>b' },
  { page: 'a<%    %>b' },
  { page: 'a<%=\n%>b' },
  { page: '<p><%="tight"%></p>' },
  { page: '<p><%-"tight"%></p>' },
  // Code tags, control flow across tags
  { page: '<% const n = 3 %><p><%= n %></p>' },
  { page: '<% let s = 0; for (let i = 1; i <= 4; i++) s += i %><%= s %>' },
  { page: '<ul><% for (const x of ["a", "b"]) { %><li><%= x %></li><% } %></ul>' },
  { page: '<% if (QUERY.a) { %>yes<% } else { %>no<% } %>', q: { a: '1' } },
  { page: '<% if (QUERY.a) { %>yes<% } else { %>no<% } %>' },
  { page: '<% ["x", "y"].forEach(function (v, i) { %><%= i %>=<%= v %>;<% }) %>' },
  { page: '<% const o = { a: 1, b: 2 } %><% for (const k in o) { %><%= k %><% } %>' },
  { page: '<% let i = 0; while (i < 3) { %><%= i++ %><% } %>' },
  { page: '<% switch (QUERY.c) { case "a": %>A<% break; default: %>D<% } %>', q: { c: 'a' } },
  { page: '<% function f(x = 0) { return x * 2 } %><%= f(21) %>' },
  { page: '<% const s = "%" + ">" %><%= s.length %>' },
  { page: '<%= "a" %><%= "b" %><%- "c" %>' },
  { page: '<% /* a comment */ %>x' },
  { page: '<% // line comment\n%>x' },
  { page: '<%= 1 // one\n%>x' },
  // Comments and literal tags
  { page: 'a<%# nothing here %>b' },
  { page: 'a<%# multi\nline %>b' },
  { page: '<p><%% literal %></p>' },
  { page: '<p><%%= not a tag %></p>' },
  // Whitespace and lines
  { page: '<ul>\n<% for (const x of [1, 2]) { %>\n  <li><%= x %></li>\n<% } %>\n</ul>\n' },
  { page: 'line1\n<% const a = 1 %>\nline2 <%= a %>\n' },
  { page: 'line1\n  <% const a = 1 %>  \nline2\n' },
  { page: 'a <% const a = 1 %> b\n' },
  { page: '<div>\n<%# comment line %>\n</div>\n' },
  { page: '<% if (true) { %>\n  <b>t</b>\n<% } %>\n' },
  { page: '\n\n<%= "x" %>\n\n' },
  { page: '  <%= "indented" %>\n' },
  { page: 'text only\nno tags\n' },
  { page: '<p>\r\n<%= "crlf" %>\r\n</p>\r\n' },
  { page: '<%- "<!doctype html>" %>\n<html><body><%= "b" %></body></html>\n' },
  // HTML around tags
  { page: '<script>var x = <%- JSON.stringify(QUERY.n ?? null) %>;</script>', q: { n: '5' } },
  { page: '<a href="/p?id=<%= QUERY.id %>&x=1">l</a>', q: { id: '7&8' } },
  { page: '<input value="<%= QUERY.v %>">', q: { v: '" onfocus="x' } },
  { page: '<a href="<%= QUERY.u %>">l</a>', q: { u: 'https://example.com/?a=1&b=2' } },
  { page: '<a href="<%= QUERY.u %>">l</a>', q: { u: ' javascript:alert(1)' }, ours: '<a href="about:invalid#blocked">l</a>' },
  { page: '<button onclick="go(\'<%= QUERY.h %>\')">b</button>', q: { h: "');alert(1)//" }, ours: '<button onclick="go(\'\\u0027\\u0029\\u003balert\\u00281\\u0029\\u002f\\u002f\')">b</button>' },
  { page: '<input <%= QUERY.a %>>', q: { a: 'checked' } },
  { page: '<input <%= QUERY.a %>>', q: { a: 'onfocus=alert(1) autofocus' }, ours: '<input>' },
  { page: '<a href=<%= QUERY.u %>>l</a>', q: { u: '/x onmouseover=alert(1)' }, ours: '<a href="/x onmouseover=alert(1)">l</a>' },
  { page: '<style>p { color: <%= "red" %> }</style>' },
  { page: '<% const items = [{ n: "a", p: 1 }, { n: "b<", p: 2 }] %><table><% for (const it of items) { %><tr><td><%= it.n %></td><td><%= it.p.toFixed(2) %></td></tr><% } %></table>' },
  { page: '<% const list = ["x", "y"] %><%= list.length %> items: <%= list.join(" / ") %>' },
  { page: '<%= "é 日本 😀" %>' },
  { page: '<% const big = "a".repeat(10) %><%= big %>' },
];
