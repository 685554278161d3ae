// Pieces the console's panels share.
import { busy, copy, field, h, say } from './dom.js';

// A button that opens a small inline form asking for a reason (revoke and
// reject need one, 1-500 characters), then runs `act(reason)`.
export function reasonAction(label, act) {
  const notice = h('p', { hidden: true });
  const open = h('button', { type: 'button', class: 'danger', text: label });
  const reason = h('input', { name: 'reason', required: true, maxlength: 500 });
  const confirm = h('button', { type: 'submit', class: 'danger', text: `Confirm ${label.toLowerCase()}` });
  const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const form = h('form', { class: 'inline', hidden: true }, field('Reason', reason), confirm, cancel);
  open.addEventListener('click', () => {
    form.hidden = false;
    open.hidden = true;
    reason.focus();
  });
  cancel.addEventListener('click', () => {
    form.hidden = true;
    open.hidden = false;
    open.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(confirm, notice, () => act(reason.value));
  });
  return h('div', { class: 'action' }, open, form, notice);
}

// A button that runs `act()` and shows its error next to it.
export function action(label, act, cls = '') {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'button', class: cls, text: label });
  button.addEventListener('click', () => busy(button, notice, act));
  return h('div', { class: 'action' }, button, notice);
}

// A button that asks once more before an action that cannot be undone
// (revoking a key, rotating a secret): Confirm runs `act()`, Cancel goes back.
export function confirmAction(label, act) {
  const notice = h('p', { hidden: true });
  const open = h('button', { type: 'button', class: 'danger', text: label });
  const confirm = h('button', { type: 'button', class: 'danger', text: `Confirm ${label.toLowerCase()}` });
  const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const ask = h('div', { class: 'inline', hidden: true }, confirm, cancel);
  const toggle = (asking) => {
    ask.hidden = !asking;
    open.hidden = asking;
    (asking ? confirm : open).focus();
  };
  open.addEventListener('click', () => toggle(true));
  cancel.addEventListener('click', () => toggle(false));
  confirm.addEventListener('click', () => busy(confirm, notice, act));
  return h('div', { class: 'action' }, open, ask, notice);
}

// A secret the server shows only once (an API key, a webhook signing
// secret): read-only, selectable, with a copy button and a warning.
export function secretOnce(label, value) {
  const input = h('input', { readonly: true, value, class: 'secret-field', name: 'secret', spellcheck: 'false' });
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'button', class: 'secondary', text: 'Copy' });
  button.addEventListener('click', () => busy(button, notice, async () => {
    const copied = await copy(input);
    say(notice, copied ? 'Copied.' : 'Press Ctrl+C (or ⌘C) to copy the selected text.', copied ? 'success' : 'info');
  }));
  return h('div', { class: 'secret', role: 'status' },
    h('p', { class: 'notice info', text: 'Copy it now: it is shown only this once and cannot be read again.' }),
    field(label, input), button, notice);
}

// Checkboxes named `name`, one per value (a string, or [value, label]), in a
// fieldset with a legend.
export function checkboxes(legend, name, values) {
  return h('fieldset', { class: 'checks' }, h('legend', { text: legend }),
    values.map((item) => {
      const [value, label] = Array.isArray(item) ? item : [item, item];
      const id = `${name}-${value.replace(/[^a-z0-9]/gi, '-')}`;
      return h('div', { class: 'field check' }, h('input', { id, name, value, type: 'checkbox' }),
        h('label', { for: id, text: label }));
    }));
}

export const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
