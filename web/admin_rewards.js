// Rewards by status, with credit and revoke (a reason is required).
import { post, query } from './api.js';
import { field, h, when } from './dom.js';
import { pagedTable } from './pager.js';
import { action, reasonAction } from './admin_common.js';

const STATUSES = ['PENDING', 'CREDITED', 'REVOKED'];
const urlFor = (status, userId) => `/api/admin/rewards${query({ status, user_id: userId.trim(), limit: 20 })}`;

function row(reward, reload) {
  const path = `/api/admin/rewards/${encodeURIComponent(reward.reward_id)}`;
  return h('tr', { 'data-reward': reward.reward_id },
    h('td', { text: `${reward.reward_value} ${reward.reward_unit}` }),
    h('td', { text: `${reward.reward_type}, ${reward.beneficiary.toLowerCase()}` }),
    h('td', {}, h('small', { text: reward.user_id })),
    h('td', {}, h('span', { class: `badge ${reward.status}`, text: reward.status })),
    h('td', { text: when(reward.created_at) }),
    h('td', {}, h('div', { class: 'actions' },
      reward.status === 'PENDING' ? action('Credit', async () => { await post(`${path}/credit`); reload(); }) : null,
      reward.status !== 'REVOKED'
        ? reasonAction('Revoke', async (reason) => { await post(`${path}/revoke`, { reason }); reload(); }) : null)));
}

export default {
  id: 'rewards',
  title: 'Rewards',
  render() {
    const status = h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s, text: s })));
    const userId = h('input', { name: 'user_id', placeholder: 'any user' });
    const list = pagedTable({
      url: urlFor('PENDING', ''),
      headings: ['Value', 'Type', 'User id', 'Status', 'Created', 'Actions'],
      row,
      emptyText: 'No reward with this status.',
    });
    const filters = h('form', { class: 'filters' }, field('Status', status), field('User id', userId),
      h('button', { type: 'submit', class: 'secondary', text: 'Show' }));
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      list.reload(urlFor(status.value, userId.value));
    });
    status.addEventListener('change', () => list.reload(urlFor(status.value, userId.value)));
    return h('div', {}, filters, list.element);
  },
};
