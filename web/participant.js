// The participant page (GET /): sign up, verify, log in; then my link,
// numbers, referrals and rewards.
import { get, optional, post } from './api.js';
import { dailyChart, timeZone } from './chart.js';
import { $, busy, field, formValues, h, loading, replace, say, when } from './dom.js';
import { pagedTable } from './pager.js';
import { currentUser, header, loginForm } from './session.js';
import { shareCard } from './share.js';

const app = $('#app');
const referralFromUrl = new URLSearchParams(window.location.search).get('ref') || '';

function signupForm(onSignedUp) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Sign up' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'signup-title' },
    h('h2', { id: 'signup-title', text: 'Sign up' }),
    field('Name', h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 })),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true })),
    field('Password (8 characters or more)', h('input', {
      name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8,
    })),
    field('Referral code (optional)', h('input', { name: 'referral_code', value: referralFromUrl, autocomplete: 'off' })),
    button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const values = formValues(form);
      const body = { name: values.name, email: values.email, password: values.password };
      if (values.referral_code.trim()) body.referral_code = values.referral_code.trim();
      const { data } = await post('/api/auth/signup', body);
      onSignedUp({ email: values.email, signupId: data.signup_id, message: data.message });
    });
  });
  return form;
}

const REFERRAL_OUTCOMES = {
  self_referral: 'The referral code was your own, so it was not applied.',
  already_referred: 'You had already been referred, so the code was not applied.',
};

function verifyForm(signup, onVerified, onSupersededOrRestart) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Verify' });
  const restart = h('button', { type: 'button', class: 'link', text: 'Sign up again' });
  restart.addEventListener('click', onSupersededOrRestart);
  const form = h('form', { class: 'card', 'aria-labelledby': 'verify-title' },
    h('h2', { id: 'verify-title', text: 'Check your email' }),
    h('p', { role: 'status', text: `${signup.message || 'A code was sent.'} Enter the 6-digit code sent to ${signup.email}.` }),
    field('Code', h('input', {
      name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, pattern: '[0-9 ]{6,8}',
    })),
    button, notice, restart);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const body = { email: signup.email, otp: formValues(form).otp };
      // Servers that answer signup with a signup_id want it back, so a code
      // from an earlier signup of the same email cannot verify this one.
      if (signup.signupId) body.signup_id = signup.signupId;
      try {
        const { data } = await post('/api/auth/verify-otp', body);
        onVerified(signup.email, data);
      } catch (error) {
        if (error.code === 'signup_superseded') {
          say(notice, `${error.message} Please sign up again.`, 'error');
          return;
        }
        throw error;
      }
    });
  });
  return form;
}

function outcomeText(result) {
  if (!result.referral) return '';
  if (result.referral.applied) return ' Your referral code was applied.';
  return ` ${REFERRAL_OUTCOMES[result.referral.code] || `The referral code was not applied (${result.referral.code}).`}`;
}

function showSignedOut(notice = '') {
  const message = h('p', { hidden: true });
  if (notice) say(message, notice, 'success');
  const signup = signupForm(showVerify);
  const login = loginForm(showSignedIn);
  const cards = referralFromUrl ? [signup, login] : [login, signup];
  replace(app, header('Referrals', null), message, h('div', { class: 'columns' }, cards));
  $('input', cards[0]).focus();
}

function showVerify(signup) {
  const form = verifyForm(signup, (email, result) => {
    const message = h('p', { hidden: true });
    say(message, `${result.message}${outcomeText(result)}`, 'success');
    const login = loginForm(showSignedIn, email);
    replace(app, header('Referrals', null), message, login);
    $('input[name=password]', login).focus();
  }, () => showSignedOut());
  replace(app, header('Referrals', null), form);
  $('input[name=otp]', form).focus();
}

function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, text: title }), ...children);
}

function numbers(pairs) {
  return h('dl', { class: 'numbers' }, pairs.map(([label, value]) => h('div', {}, h('dt', { text: label }), h('dd', { text: String(value) }))));
}

async function fillSummary(box, funnelBox, chartBox) {
  const [summary, funnel, timeline] = await Promise.all([
    get('/api/referral/analytics/summary'),
    optional(`/api/referral/analytics/funnel?tz=${encodeURIComponent(timeZone())}`),
    get(`/api/referral/analytics/timeline?tz=${encodeURIComponent(timeZone())}`),
  ]);
  const s = summary.data;
  replace(box, numbers([
    ['Referrals', s.total_referrals], ['Successful', s.successful_referrals],
    ['Pending', s.pending_referrals], ['Conversion', s.conversion_rate],
    ...(s.clicks !== undefined ? [['Link clicks', s.clicks]] : []),
  ]));
  if (funnel) {
    const f = funnel.data;
    replace(funnelBox, h('h3', { text: 'Funnel, last 30 days' }), numbers([
      ['Clicks', f.clicks], ['Signups', f.signups], ['Verified', f.verified],
      ['Referrals', f.referrals], ['Successful', f.successful],
    ]));
    replace(chartBox, dailyChart('My link', [
      { label: 'Clicks', key: 'clicks', cls: 's1' }, { label: 'Signups', key: 'signups', cls: 's2' },
      { label: 'Referrals', key: 'referrals', cls: 's3' }, { label: 'Successful', key: 'successful', cls: 's4' },
    ], f.days));
  } else {
    funnelBox.hidden = true;
    replace(chartBox, dailyChart('My referrals', [
      { label: 'Referrals', key: 'count', cls: 's3' }, { label: 'Successful', key: 'successful', cls: 's4' },
    ], timeline.data));
  }
}

function balanceText(balance) {
  return Object.entries(balance).map(([unit, b]) => `${unit}: ${b.credited} credited, ${b.pending} pending`).join(' · ');
}

async function showSignedIn(user) {
  const summaryBox = h('div', {}, loading());
  const funnelBox = h('div', {});
  const chartBox = h('div', {});
  const balanceBox = h('p', { class: 'balance', role: 'status', text: 'Loading…' });
  const problems = h('p', { hidden: true });
  const referrals = pagedTable({
    url: '/api/referral/analytics/list?limit=10',
    headings: ['Who', 'When', 'Status'],
    row: (r) => h('tr', {}, h('td', { text: r.used_by_name }), h('td', { text: when(r.used_at) }),
      h('td', {}, h('span', { class: `badge ${r.status}`, text: r.status }))),
    emptyText: 'Nobody has used your code yet. Share your link!',
  });
  const rewards = pagedTable({
    url: '/api/rewards/history?limit=10',
    headings: ['Reward', 'For', 'Status', 'When'],
    row: (r) => h('tr', {}, h('td', { text: `${r.reward_value} ${r.reward_unit}` }),
      h('td', { text: `${r.reward_type} (${r.beneficiary.toLowerCase()})` }),
      h('td', {}, h('span', { class: `badge ${r.status}`, text: r.status })), h('td', { text: when(r.created_at) })),
    emptyText: 'No rewards yet.',
  });
  replace(app,
    header('Referrals', user, () => showSignedOut('You are logged out.')),
    h('p', { class: 'hello', text: `Hello, ${user.name}.` }),
    problems,
    shareCard(),
    section('My numbers', summaryBox, funnelBox, chartBox),
    section('My referrals', referrals.element),
    section('My rewards', balanceBox, rewards.element));
  fillSummary(summaryBox, funnelBox, chartBox).catch((error) => say(problems, error.message, 'error'));
  get('/api/rewards/balance').then(({ data }) => { balanceBox.textContent = `Balance — ${balanceText(data)}`; })
    .catch((error) => say(problems, error.message, 'error'));
}

async function start() {
  replace(app, loading());
  try {
    const user = await currentUser();
    if (user) showSignedIn(user);
    else showSignedOut();
    // The first screen a visitor can use is up (docs/PERFORMANCE.md reads this mark).
    performance.mark('console-ready');
  } catch (error) {
    const notice = h('p', {});
    say(notice, error.message, 'error');
    replace(app, notice);
  }
}

start();
