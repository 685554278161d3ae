// Reward configs: the list, create, deactivate.
import { get, post } from './api.js';
import { busy, empty, field, formValues, h, loading, replace, say, table, when } from './dom.js';
import { action } from './admin_common.js';

const select = (name, options) => h('select', { name }, options.map((o) => h('option', { value: o, text: o })));

function createForm(onCreated) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Create config' });
  const form = h('form', { class: 'filters' },
    field('Type', select('reward_type', ['SIGNUP', 'FIRST_ORDER'])),
    field('Value', h('input', { name: 'reward_value', type: 'number', min: 1, step: 1, required: true, value: 100 })),
    field('Unit', select('reward_unit', ['POINTS', 'CASH'])),
    field('Beneficiary', select('beneficiary', ['REFERRER', 'REFEREE'])),
    h('div', { class: 'field check' }, h('input', { id: 'auto-credit', name: 'auto_credit', type: 'checkbox' }),
      h('label', { for: 'auto-credit', text: 'Credit at once' })),
    button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const values = formValues(form);
      await post('/api/admin/reward-config', {
        reward_type: values.reward_type, reward_value: Number(values.reward_value), reward_unit: values.reward_unit,
        beneficiary: values.beneficiary, auto_credit: values.auto_credit === 'on',
      });
      say(notice, 'Config created.', 'success');
      onCreated();
    });
  });
  return form;
}

async function fill(box) {
  replace(box, loading());
  const { data } = await get('/api/admin/reward-config');
  if (data.length === 0) {
    replace(box, empty('No reward config: referrals cannot be applied until one exists.'));
    return;
  }
  replace(box, table(['Type', 'Reward', 'For', 'Auto credit', 'Active', 'Created', 'Change'], data.map((c) => h('tr', {},
    h('td', { text: c.reward_type }), h('td', { text: `${c.reward_value} ${c.reward_unit}` }),
    h('td', { text: c.beneficiary }), h('td', { text: c.auto_credit ? 'yes' : 'no' }),
    h('td', { text: c.is_active ? 'active' : 'inactive' }), h('td', { text: when(c.created_at) }),
    h('td', {}, h('div', { class: 'actions' }, c.is_active ? action('Deactivate', async () => {
      await post(`/api/admin/reward-config/${encodeURIComponent(c.id)}/deactivate`);
      await fill(box);
    }, 'danger') : null))))));
}

export default {
  id: 'configs',
  title: 'Reward configs',
  render() {
    const box = h('div', {});
    const notice = h('p', { hidden: true });
    const reload = () => fill(box).catch((error) => say(notice, error.message, 'error'));
    reload();
    return h('div', {}, createForm(reload), notice, box);
  },
};
