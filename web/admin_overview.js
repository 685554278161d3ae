// Totals, the 30-day chart (from /api/admin/funnel where the server has it)
// and the leaderboard.
import { get, optional } from './api.js';
import { dailyChart, timeZone } from './chart.js';
import { empty, h, loading, replace, say, table } from './dom.js';

function numbers(pairs) {
  return h('dl', { class: 'numbers' }, pairs.map(([label, value]) => h('div', {}, h('dt', { text: label }), h('dd', { text: String(value) }))));
}

function unitLine(unit, byStatus) {
  return `${unit}: ${['PENDING', 'CREDITED', 'REVOKED'].map((status) => `${(byStatus[status] || { value: 0 }).value} ${status.toLowerCase()}`).join(', ')}`;
}

async function fill(totals, chart, leaders) {
  const [stats, funnel, top] = await Promise.all([
    get('/api/admin/stats'),
    optional(`/api/admin/funnel?tz=${encodeURIComponent(timeZone())}`),
    get('/api/admin/referral/top?limit=10'),
  ]);
  const s = stats.data;
  replace(totals, numbers([
    ['Users', s.users.total], ['Verified', s.users.verified], ['Referrals', s.referrals.total],
    ['Successful', s.referrals.by_status.SUCCESS || 0], ['Pending', s.referrals.by_status.PENDING || 0],
    ['Rejected', s.referrals.by_status.REJECTED || 0], ['Rewards', s.rewards.total],
  ]), h('p', { class: 'muted', text: Object.entries(s.rewards.by_unit).map(([unit, byStatus]) => unitLine(unit, byStatus)).join(' · ') }));
  if (funnel) {
    replace(chart, dailyChart('All links', [
      { label: 'Clicks', key: 'clicks', cls: 's1' }, { label: 'Signups', key: 'signups', cls: 's2' },
      { label: 'Referrals', key: 'referrals', cls: 's3' }, { label: 'Successful', key: 'successful', cls: 's4' },
    ], funnel.data.days));
  } else {
    chart.hidden = true;
  }
  if (top.data.length === 0) {
    replace(leaders, empty('No referrer yet.'));
    return;
  }
  replace(leaders, table(['Referrer', 'Successful', 'Total'], top.data.map((r) => h('tr', {},
    h('td', {}, h('span', { text: r.name }), h('br'), h('small', { text: r.email })),
    h('td', { text: String(r.successful_referrals) }), h('td', { text: String(r.total_referrals) })))));
}

export default {
  id: 'overview',
  title: 'Overview',
  render() {
    const totals = h('div', {}, loading());
    const chart = h('div', {});
    const leaders = h('div', {}, loading());
    const notice = h('p', { hidden: true });
    fill(totals, chart, leaders).catch((error) => {
      replace(totals);
      replace(leaders);
      say(notice, error.message, 'error');
    });
    return h('div', {}, notice, totals, chart, h('h3', { text: 'Leaderboard' }), leaders);
  },
};
