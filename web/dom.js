// Small DOM helpers. Text always goes in through textContent, never
// innerHTML, and no element gets a style attribute (the pages' policy is
// default-src 'self': inline styles would be refused).

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(element, visible = true) {
  element.hidden = !visible;
}

// A message line: role=alert for errors (read out at once), status otherwise.
export function say(element, text, kind = 'info') {
  element.textContent = text || '';
  element.className = `notice ${kind}`;
  element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  show(element, Boolean(text));
}

export function field(label, input) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), input);
}

// Runs `work` with the button disabled; shows an ApiError's sentence in `notice`.
export async function busy(button, notice, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  say(notice, '');
  try {
    return await work();
  } catch (error) {
    say(notice, error.message, 'error');
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export const loading = () => h('p', { class: 'muted', role: 'status', text: 'Loading…' });
export const empty = (text) => h('p', { class: 'muted empty', text });

// Names each cell after its column, so narrow screens can show a row as a
// stack of "label: value" lines (style.css) instead of a table to scroll.
export function labelCells(headings, rows) {
  for (const row of rows) [...row.children].forEach((cell, i) => cell.setAttribute('data-label', headings[i] || ''));
  return rows;
}

export function table(headings, rows) {
  labelCells(headings, rows);
  return h('div', { class: 'scroll' },
    h('table', {},
      h('thead', {}, h('tr', {}, headings.map((text) => h('th', { scope: 'col', text })))),
      h('tbody', {}, rows)));
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

// Copies an input's value; false when the clipboard refused (it needs a
// secure context and permission): the text is then selected to copy by hand.
export async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    return false;
  }
  return true;
}
