// Milestones (docs/API.md, Milestones): a bonus when a referrer's successful
// referrals reach a threshold; create, list, deactivate.
import { get, post } from './api.js';
import { busy, empty, field, h, loading, replace, say, table, when } from './dom.js';
import { action } from './admin_common.js';

const LIST = '/api/admin/milestones';

function createForm(onCreated) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Create milestone' });
  const number = (name, value) => h('input', { name, type: 'number', min: 1, step: 1, required: true, value });
  const unit = h('select', { name: 'reward_unit' }, ['POINTS', 'CASH'].map((u) => h('option', { value: u, text: u })));
  const threshold = number('successful_referrals', 10);
  const value = number('reward_value', 1000);
  const form = h('form', { class: 'filters' }, field('Successful referrals', threshold), field('Bonus', value),
    field('Unit', unit), button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      await post(LIST, { successful_referrals: Number(threshold.value), reward_value: Number(value.value),
        reward_unit: unit.value });
      say(notice, 'Milestone created.', 'success');
      onCreated();
    });
  });
  return form;
}

async function fill(box) {
  replace(box, loading());
  const { data } = await get(LIST);
  if (data.length === 0) {
    replace(box, empty('No milestone.'));
    return;
  }
  replace(box, table(['Reached at', 'Bonus', 'Active', 'Created', 'Change'], data.map((m) => h('tr', { 'data-milestone': m.id },
    h('td', { text: `${m.successful_referrals} successful referrals` }),
    h('td', { text: `${m.reward_value} ${m.reward_unit}` }),
    h('td', { text: m.is_active ? 'active' : 'inactive' }),
    h('td', { text: when(m.created_at) }),
    h('td', {}, h('div', { class: 'actions' }, m.is_active ? action('Deactivate', async () => {
      await post(`${LIST}/${encodeURIComponent(m.id)}/deactivate`);
      await fill(box);
    }, 'danger') : null))))));
}

export default {
  id: 'milestones',
  title: 'Milestones',
  probe: LIST,
  render() {
    const box = h('div', {});
    const notice = h('p', { hidden: true });
    const reload = () => fill(box).catch((error) => say(notice, error.message, 'error'));
    reload();
    return h('div', {}, createForm(reload), notice, box);
  },
};
