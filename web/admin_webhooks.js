// Webhooks (docs/API.md, Webhooks): endpoints with create (the signing
// secret is shown once), enable/disable, rotate, test, and each endpoint's
// deliveries with retry.
import { patch, post, query } from './api.js';
import { busy, field, h, replace, say, when } from './dom.js';
import { pagedTable } from './pager.js';
import { action, checkboxes, checked, confirmAction, secretOnce } from './admin_common.js';

const EVENTS = ['user.verified', 'referral.created', 'referral.flagged', 'referral.status_changed',
  'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached'];
const LIST = '/api/admin/webhooks';
const pathOf = (id) => `${LIST}/${encodeURIComponent(id)}`;
const BADGE = { pending: 'wait', delivered: 'ok', failed: 'bad' };

function createForm(onCreated) {
  const notice = h('p', { hidden: true });
  const created = h('div', {});
  const button = h('button', { type: 'submit', text: 'Add endpoint' });
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://', autocomplete: 'off' });
  const description = h('input', { name: 'description', maxlength: 500 });
  const form = h('form', { class: 'create' }, field('URL', url), field('Description', description),
    checkboxes('Events', 'event', [['*', 'every event (*)'], ...EVENTS]), button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const events = checked(form, 'event');
      const { data } = await post(LIST, { url: url.value, description: description.value,
        events: events.includes('*') ? ['*'] : events });
      replace(created, secretOnce(`Signing secret of ${data.url}`, data.secret));
      form.reset();
      onCreated();
    });
  });
  return h('div', {}, form, created);
}

// An action whose success is worth a word (a test event queued).
function reportingAction(label, act, done) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'button', class: 'secondary', text: label });
  button.addEventListener('click', () => busy(button, notice, async () => {
    await act();
    say(notice, done, 'success');
  }));
  return h('div', { class: 'action' }, button, notice);
}

function deliveryRow(endpointId, delivery, reload) {
  const answer = delivery.last_status_code ? `HTTP ${delivery.last_status_code}` : delivery.last_error || '–';
  return h('tr', { 'data-delivery': delivery.id },
    h('td', {}, h('span', { text: delivery.event_type }), h('br'), h('small', { text: delivery.event_id })),
    h('td', {}, h('span', { class: `badge ${BADGE[delivery.status] || ''}`, text: delivery.status })),
    h('td', { text: String(delivery.attempts) }),
    h('td', { text: answer }),
    h('td', { text: when(delivery.next_attempt_at) }),
    h('td', { text: when(delivery.delivered_at) }),
    h('td', {}, h('div', { class: 'actions' }, delivery.status === 'delivered' ? null : action('Retry', async () => {
      await post(`${pathOf(endpointId)}/deliveries/${encodeURIComponent(delivery.id)}/retry`);
      reload();
    }))));
}

// One endpoint's deliveries, newest first, filtered by status.
function deliveries(endpoint) {
  const urlFor = (status) => `${pathOf(endpoint.id)}/deliveries${query({ status, limit: 20 })}`;
  const status = h('select', { name: 'status' }, ['', 'pending', 'delivered', 'failed'].map((s) =>
    h('option', { value: s, text: s || 'any status' })));
  const list = pagedTable({
    url: urlFor(''),
    headings: ['Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', 'Delivered', 'Retry'],
    row: (delivery, reload) => deliveryRow(endpoint.id, delivery, reload),
    emptyText: 'No delivery yet.',
  });
  status.addEventListener('change', () => list.reload(urlFor(status.value)));
  const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh' });
  refresh.addEventListener('click', () => list.reload(urlFor(status.value)));
  const title = h('h3', { id: 'deliveries-title', tabindex: '-1', text: `Deliveries to ${endpoint.url}` });
  return h('section', { class: 'deliveries', 'aria-labelledby': 'deliveries-title' }, title,
    h('div', { class: 'filters' }, field('Status', status), refresh), list.element);
}

function endpointRow(endpoint, reload, openDeliveries) {
  const secret = h('div', {});
  const state = endpoint.enabled ? 'enabled' : `disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ''}`;
  return h('tr', { 'data-webhook': endpoint.id },
    h('td', {}, h('span', { text: endpoint.url }), endpoint.description ? [h('br'), h('small', { text: endpoint.description })] : null),
    h('td', { text: endpoint.events.join(', ') }),
    h('td', {}, h('span', { class: `badge ${endpoint.enabled ? 'ok' : 'bad'}`, text: state })),
    h('td', { text: when(endpoint.created_at) }),
    h('td', {}, h('div', { class: 'actions' },
      action(endpoint.enabled ? 'Disable' : 'Enable', async () => {
        await patch(pathOf(endpoint.id), { enabled: !endpoint.enabled });
        reload();
      }, endpoint.enabled ? 'danger' : ''),
      reportingAction('Send test', () => post(`${pathOf(endpoint.id)}/test`), 'Test event queued.'),
      confirmAction('Rotate secret', async () => {
        const { data } = await post(`${pathOf(endpoint.id)}/rotate-secret`);
        replace(secret, secretOnce('New signing secret (the old one also signs for 24 hours)', data.secret));
      }),
      action('Deliveries', () => openDeliveries(endpoint), 'secondary'),
      secret)));
}

export default {
  id: 'webhooks',
  title: 'Webhooks',
  probe: LIST,
  render() {
    const detail = h('div', {});
    const openDeliveries = (endpoint) => {
      replace(detail, deliveries(endpoint));
      detail.querySelector('h3').focus();
    };
    const list = pagedTable({
      url: `${LIST}?limit=20`,
      headings: ['Endpoint', 'Events', 'State', 'Created', 'Change'],
      row: (endpoint, reload) => endpointRow(endpoint, reload, openDeliveries),
      emptyText: 'No webhook endpoint yet.',
    });
    return h('div', {}, createForm(() => list.reload()), list.element, detail);
  },
};
