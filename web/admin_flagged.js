// Flagged referrals: approving credits the referral's pending rewards,
// rejecting revokes every reward it still has, with a reason (docs/API.md,
// Leaderboard, flagged referrals and stats).
import { all, post, query } from './api.js';
import { h, when } from './dom.js';
import { pagedTable } from './pager.js';
import { action, reasonAction } from './admin_common.js';

// The rewards of one referral in the given statuses: they belong to its
// referrer or its referee, so both users' rewards are read and filtered.
async function rewardsOf(referral, statuses) {
  const lists = await Promise.all([referral.referrer_id, referral.referee_id].flatMap((userId) =>
    statuses.map((status) => all(`/api/admin/rewards${query({ user_id: userId, status, limit: 200 })}`))));
  return lists.flat().filter((reward) => reward.referral_id === referral.referral_id);
}

async function approve(referral) {
  for (const reward of await rewardsOf(referral, ['PENDING'])) {
    await post(`/api/admin/rewards/${encodeURIComponent(reward.reward_id)}/credit`);
  }
}

async function reject(referral, reason) {
  for (const reward of await rewardsOf(referral, ['PENDING', 'CREDITED'])) {
    await post(`/api/admin/rewards/${encodeURIComponent(reward.reward_id)}/revoke`, { reason });
  }
}

function row(referral, reload) {
  const flags = referral.flags.map((flag) => `${flag.rule}: ${flag.detail}`).join('; ');
  const actions = h('td', {}, h('div', { class: 'actions' },
    referral.status === 'PENDING' ? action('Approve', async () => { await approve(referral); reload(); }) : null,
    referral.status !== 'REJECTED' ? reasonAction('Reject', async (reason) => { await reject(referral, reason); reload(); }) : null));
  return h('tr', { 'data-referral': referral.referral_id },
    h('td', {}, h('span', { text: referral.referrer_email }), ' → ', h('span', { text: referral.referee_email })),
    h('td', { text: flags }),
    h('td', {}, h('span', { class: `badge ${referral.status}`, text: referral.status })),
    h('td', { text: when(referral.created_at) }),
    actions);
}

export default {
  id: 'flagged',
  title: 'Flagged referrals',
  render() {
    return pagedTable({
      url: '/api/admin/referrals/flagged?limit=20',
      headings: ['Referrer → referee', 'Flags', 'Status', 'When', 'Review'],
      row,
      emptyText: 'No flagged referral.',
    }).element;
  },
};
