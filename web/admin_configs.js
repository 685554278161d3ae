// Reward configs: the list, create, deactivate; a config's budget and how
// much of it is used, where the server has budgets (its configs carry a
// `budget` field: docs/API.md, Reward rules).
import { get, post } from './api.js';
import { busy, empty, field, formValues, h, loading, replace, say, table, when } from './dom.js';
import { action } from './admin_common.js';

const select = (name, options) => h('select', { name }, options.map((o) => h('option', { value: o, text: o })));

// "300 of 1000 used" with a meter; "no limit" without a budget.
function budgetCell(config) {
  if (config.budget === null || config.budget === undefined) return h('td', { text: 'no limit' });
  const used = config.budget_used || 0;
  return h('td', {}, h('span', { text: `${used} of ${config.budget} used` }), h('br'),
    h('meter', { min: 0, max: config.budget, value: used, 'aria-label': `Budget used: ${used} of ${config.budget}` }));
}

function createForm(onCreated, budget) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Create config' });
  const form = h('form', { class: 'filters' },
    field('Type', select('reward_type', ['SIGNUP', 'FIRST_ORDER', 'PURCHASE'])),
    field('Value', h('input', { name: 'reward_value', type: 'number', min: 1, step: 1, required: true, value: 100 })),
    field('Unit', select('reward_unit', ['POINTS', 'CASH'])),
    field('Beneficiary', select('beneficiary', ['REFERRER', 'REFEREE'])),
    h('div', { class: 'field check' }, h('input', { id: 'auto-credit', name: 'auto_credit', type: 'checkbox' }),
      h('label', { for: 'auto-credit', text: 'Credit at once' })),
    budget, button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const values = formValues(form);
      await post('/api/admin/reward-config', {
        reward_type: values.reward_type, reward_value: Number(values.reward_value), reward_unit: values.reward_unit,
        beneficiary: values.beneficiary, auto_credit: values.auto_credit === 'on',
        ...(values.budget ? { budget: Number(values.budget) } : {}),
      });
      say(notice, 'Config created.', 'success');
      onCreated();
    });
  });
  return form;
}

const rewardText = (c) => (c.percent_of_amount
  ? `${c.percent_of_amount}% of the amount${c.max_value ? `, at most ${c.max_value}` : ''} ${c.reward_unit}`
  : `${c.reward_value} ${c.reward_unit}`);

// Resolves to whether the server keeps budgets.
async function fill(box) {
  replace(box, loading());
  const { data } = await get('/api/admin/reward-config');
  if (data.length === 0) {
    replace(box, empty('No reward config: referrals cannot be applied until one exists.'));
    return false;
  }
  const budgets = data.some((c) => 'budget' in c);
  const headings = ['Type', 'Reward', 'For', 'Auto credit', ...(budgets ? ['Budget'] : []), 'Active', 'Created', 'Change'];
  replace(box, table(headings, data.map((c) => h('tr', { 'data-config': c.id },
    h('td', { text: c.reward_type }), h('td', { text: rewardText(c) }),
    h('td', { text: c.beneficiary }), h('td', { text: c.auto_credit ? 'yes' : 'no' }),
    budgets ? budgetCell(c) : null,
    h('td', { text: c.is_active ? 'active' : 'inactive' }), h('td', { text: when(c.created_at) }),
    h('td', {}, h('div', { class: 'actions' }, c.is_active ? action('Deactivate', async () => {
      await post(`/api/admin/reward-config/${encodeURIComponent(c.id)}/deactivate`);
      await fill(box);
    }, 'danger') : null))))));
  return budgets;
}

export default {
  id: 'configs',
  title: 'Reward configs',
  render() {
    const box = h('div', {});
    const notice = h('p', { hidden: true });
    // Shown once the list says the server has budgets (an older one would ignore the field).
    const budget = field('Budget (optional)', h('input', { name: 'budget', type: 'number', min: 1, step: 1 }));
    budget.hidden = true;
    const reload = () => fill(box)
      .then((budgets) => { if (budgets) budget.hidden = false; })
      .catch((error) => say(notice, error.message, 'error'));
    reload();
    return h('div', {}, createForm(reload, budget), notice, box);
  },
};
