// The operator console (GET /admin/): admins only. Each panel is one module
// exporting {id, title, render() -> Element, probe?}. A panel with a `probe`
// (a list route) is shown only when the server has that route: parts of the
// API a server does not have yet are hidden, not faked.
import { optional } from './api.js';
import { $, h, loading, replace, say } from './dom.js';
import { currentUser, header, loginForm } from './session.js';
import overview from './admin_overview.js';
import flagged from './admin_flagged.js';
import rewards from './admin_rewards.js';
import configs from './admin_configs.js';
import milestones from './admin_milestones.js';
import apiKeys from './admin_apikeys.js';
import webhooks from './admin_webhooks.js';
import users from './admin_users.js';

const PANELS = [overview, flagged, rewards, configs, milestones, apiKeys, webhooks, users];
const app = $('#app');
const TITLE = 'Referral console';

function showLogin(notice = '') {
  const message = h('p', { hidden: true });
  if (notice) say(message, notice, 'success');
  const form = loginForm(showFor);
  replace(app, header(TITLE, null), message, form);
  $('input', form).focus();
}

function showRefusal(user) {
  replace(app, header(TITLE, user, () => showLogin('You are logged out.')),
    h('section', { class: 'card refusal', role: 'alert' },
      h('h2', { text: 'Administrators only' }),
      h('p', { text: `You are logged in as ${user.email}, which is not an administrator account, so this console is closed to you.` }),
      h('p', {}, h('a', { href: '/', text: 'Go to your referral page' }))));
}

// A probe answering 404 not_found means the route is missing; any other
// failure is left for the panel itself to show.
async function availablePanels() {
  const present = await Promise.all(PANELS.map((panel) => (panel.probe
    ? optional(panel.probe).then((answer) => answer !== null, () => true) : true)));
  return PANELS.filter((_, i) => present[i]);
}

async function showConsole(user) {
  replace(app, loading());
  const panels = await availablePanels();
  const nav = h('nav', { 'aria-label': 'Sections' },
    h('ul', {}, panels.map((panel) => h('li', {}, h('a', { href: `#${panel.id}`, text: panel.title })))));
  replace(app, header(TITLE, user, () => showLogin('You are logged out.')), nav,
    panels.map((panel) => h('section', { id: panel.id, class: 'card', 'aria-labelledby': `${panel.id}-title` },
      h('h2', { id: `${panel.id}-title`, text: panel.title }), panel.render(user))));
}

function showFor(user) {
  if (user.is_admin) return showConsole(user);
  return showRefusal(user);
}

async function start() {
  replace(app, loading());
  try {
    const user = await currentUser();
    if (user) await showFor(user);
    else showLogin();
  } catch (error) {
    const notice = h('p', {});
    say(notice, error.message, 'error');
    replace(app, notice);
  }
}

start();
