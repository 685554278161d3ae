// Who is signed in (the `token` cookie, HttpOnly, so only the server can
// tell), the login form both pages share, and logout.
import { ApiError, post } from './api.js';
import { busy, field, formValues, h } from './dom.js';

// The signed-in User, or null when the cookie is missing or no longer valid.
export async function currentUser() {
  try {
    return (await post('/api/auth/verify-session')).data.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function loginForm(onLoggedIn, email = '') {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'submit', text: 'Log in' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title', text: 'Log in' }),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, value: email })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    button, notice);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, notice, async () => {
      const { email: address, password } = formValues(form);
      const { data } = await post('/api/auth/login', { email: address, password });
      onLoggedIn(data.user);
    });
  });
  return form;
}

function logoutButton(onLoggedOut) {
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'button', class: 'secondary', text: 'Log out' });
  button.addEventListener('click', () => busy(button, notice, async () => {
    try {
      await post('/api/auth/logout');
    } catch (error) {
      // An ended session is logged out already.
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    onLoggedOut();
  }));
  return h('span', { class: 'logout' }, button, notice);
}

export function header(title, user, onLoggedOut) {
  return h('header', { class: 'top' },
    h('h1', { text: title }),
    user ? h('div', { class: 'who' }, h('span', { text: user.email }), logoutButton(onLoggedOut)) : null);
}
