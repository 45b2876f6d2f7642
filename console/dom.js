// Samsa console: small DOM and formatting helpers shared by the pages (no framework, no build step).

/** h('td', { class: 'num' }, 'text', child...): an element; null/undefined/false children are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A request to the console's JSON API; throws with the API's error message. */
export async function api(path, init) {
  const res = await fetch(`/api/${path}`, init);
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new Error(body && body.error ? body.error : `${path}: HTTP ${res.status}`);
  return body;
}

export const enc = encodeURIComponent;

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function num(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

export function time(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** A table: columns are [title, (row) => cell, options]. */
export function table(columns, rows, empty = 'none') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    null,
    h('thead', null, h('tr', null, columns.map(([title, , o]) => h('th', { class: o?.num ? 'num' : null }, title)))),
    h('tbody', null, rows.map((r) => h('tr', null, columns.map(([, cell, o]) => h('td', { class: o?.num ? 'num' : null }, cell(r)))))),
  );
}

export function card(label, value, attrs) {
  return h('div', { class: 'card', ...attrs }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

/** A decoded key/value/header as the API gives it: {format, value, schemaId?, type?, error?}. */
export function decoded(d) {
  if (!d || d.format === null) return h('span', { class: 'muted' }, 'null');
  const tags = [h('span', { class: 'tag' }, d.format), d.schemaId !== undefined ? h('span', { class: 'tag gray' }, `schema ${d.schemaId}`) : null, d.type ? h('span', { class: 'tag gray' }, d.type) : null];
  const shown = typeof d.value === 'string' ? d.value : JSON.stringify(d.value, null, 2);
  return h('div', null, tags, d.error ? h('div', { class: 'bad' }, d.error) : null, shown.includes('\n') || shown.length > 80 ? h('pre', null, shown) : h('code', null, shown));
}
