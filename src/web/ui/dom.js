// Tiny DOM helpers: elements are built with h(); text goes in as text nodes, never as HTML.

/** h('a', { href: '#/x', class: 'y', onclick: fn }, 'text', child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** replaces the main region's content and moves focus to its heading */
export function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children.flat());
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

/** says something to screen readers (the page's live region) */
export function announce(text) {
  document.getElementById('live').textContent = text;
}

/** a table in a box of its own that scrolls sideways on a narrow screen, so the page does not */
export const scrollTable = (attrs, ...children) => h('div', { class: 'table-box' }, h('table', attrs, ...children));

export const errorText = (err) => h('p', { class: 'error', role: 'alert' }, err?.message ?? String(err));

export const enc = encodeURIComponent;
