/**
 * QUERY's fields (SPEC §4): made from the query string the first time a
 * script (or the body reader) asks for them — a page that never reads QUERY
 * costs no fields object (a null-prototype object is 177 bytes, the largest
 * part of a request's context). The rules for adding a field live here too:
 * the body reader (http/fields.ts) adds a form's fields with them.
 */
import type { Fields, PageContext, UploadedFile } from './context.js';

/** A fresh fields object; null prototype so that `__proto__` is just a name. */
export function emptyFields(): Fields {
  return Object.create(null) as Fields;
}

/** Adds one form value under the SPEC's rules: `name[]` collects, a repeated name keeps the last. */
export function addField(fields: Fields, name: string, value: string | UploadedFile): void {
  if (name.endsWith('[]') && name.length > 2) {
    const key = name.slice(0, -2);
    const list = fields[key];
    if (Array.isArray(list)) list.push(value);
    else fields[key] = [value];
  } else {
    fields[name] = value;
  }
}

/** Fields of a query string (without the `?`). */
export function parseQuery(search: string, into: Fields = emptyFields()): Fields {
  if (search) for (const [k, v] of new URLSearchParams(search)) addField(into, k, v);
  return into;
}

/** The request's fields: the query's, made on first use, and the body's once it is read. */
export function fieldsOf(ctx: PageContext): Fields {
  return (ctx.fields ??= parseQuery(ctx.query));
}
