// Pieces the console's panels share.
import { busy, field, h } from './dom.js';

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
