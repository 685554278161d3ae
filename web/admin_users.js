// Users: search by email prefix, promote, demote.
import { post, query } from './api.js';
import { field, h, when } from './dom.js';
import { pagedTable } from './pager.js';
import { action } from './admin_common.js';

const urlFor = (prefix) => `/api/admin/users${query({ q: prefix.trim(), limit: 20 })}`;

function row(user, reload, me) {
  const path = `/api/admin/users/${encodeURIComponent(user.id)}`;
  let change = null;
  if (!user.is_admin) change = action('Make admin', async () => { await post(`${path}/promote`); reload(); });
  else if (user.id !== me.id) change = action('Remove admin', async () => { await post(`${path}/demote`); reload(); }, 'danger');
  return h('tr', { 'data-user': user.id },
    h('td', {}, h('span', { text: user.name }), h('br'), h('small', { text: user.email })),
    h('td', { text: user.is_verified ? 'verified' : 'not verified' }),
    h('td', { text: user.is_admin ? 'admin' : 'member' }),
    h('td', { text: when(user.created_at) }),
    h('td', {}, h('div', { class: 'actions' }, change)));
}

export default {
  id: 'users',
  title: 'Users',
  render(me) {
    const search = h('input', { name: 'q', type: 'search', placeholder: 'start of an email', autocomplete: 'off' });
    const list = pagedTable({
      url: urlFor(''),
      headings: ['User', 'Verified', 'Role', 'Signed up', 'Change'],
      row: (user, reload) => row(user, reload, me),
      emptyText: 'No user matches.',
    });
    const form = h('form', { class: 'filters', role: 'search' }, field('Email starts with', search),
      h('button', { type: 'submit', class: 'secondary', text: 'Search' }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      list.reload(urlFor(search.value));
    });
    return h('div', {}, form, list.element);
  },
};
