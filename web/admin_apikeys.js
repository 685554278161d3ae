// API keys (docs/API.md, API keys and /api/v1): create — the key is shown
// once — list and revoke.
import { del, post } from './api.js';
import { busy, field, h, replace, say, when } from './dom.js';
import { pagedTable } from './pager.js';
import { checkboxes, checked, confirmAction, secretOnce } from './admin_common.js';

const SCOPES = ['events:write', 'rewards:read', 'rewards:write', 'referrals:read', 'webhooks:manage'];
const LIST = '/api/admin/api-keys?limit=20';

function createForm(onCreated) {
  const notice = h('p', { hidden: true });
  const created = h('div', {});
  const button = h('button', { type: 'submit', text: 'Create key' });
  const name = h('input', { name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const form = h('form', { class: 'create' }, field('Name', name), checkboxes('Scopes', 'scope', SCOPES),
    button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const { data } = await post('/api/admin/api-keys', { name: name.value, scopes: checked(form, 'scope') });
      replace(created, secretOnce(`Key “${data.name}” (${data.prefix}…)`, data.key));
      form.reset();
      onCreated();
    });
  });
  return h('div', {}, form, created);
}

function row(key, reload) {
  const status = key.revoked_at ? `revoked ${when(key.revoked_at)}` : 'active';
  return h('tr', { 'data-api-key': key.id },
    h('td', { text: key.name }),
    h('td', {}, h('code', { text: `${key.prefix}…` })),
    h('td', { text: key.scopes.join(', ') }),
    h('td', { text: when(key.created_at) }),
    h('td', { text: key.last_used_at ? when(key.last_used_at) : 'never' }),
    h('td', {}, h('span', { class: `badge ${key.revoked_at ? 'REVOKED' : 'CREDITED'}`, text: status })),
    h('td', {}, h('div', { class: 'actions' }, key.revoked_at ? null : confirmAction('Revoke', async () => {
      await del(`/api/admin/api-keys/${encodeURIComponent(key.id)}`);
      reload();
    }))));
}

export default {
  id: 'api-keys',
  title: 'API keys',
  probe: LIST,
  render() {
    const list = pagedTable({
      url: LIST,
      headings: ['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Status', 'Change'],
      row,
      emptyText: 'No API key yet.',
    });
    const notice = h('p', { hidden: true });
    const reload = () => list.reload().catch((error) => say(notice, error.message, 'error'));
    return h('div', {}, createForm(reload), notice, list.element);
  },
};
