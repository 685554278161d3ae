// My share link: the server's /api/referral/link where it exists, otherwise
// this page's address with ?ref=CODE (which pre-fills the code at signup).
// The QR code is an SVG the server draws (GET /api/qr.svg).
import { get, optional, post } from './api.js';
import { busy, copy, field, h, replace, say } from './dom.js';

function linkView(code, url) {
  const input = h('input', { readonly: true, value: url, class: 'link-field' });
  const notice = h('p', { hidden: true });
  const button = h('button', { type: 'button', text: 'Copy link' });
  button.addEventListener('click', () => busy(button, notice, async () => {
    const copied = await copy(input);
    say(notice, copied ? 'Link copied.' : 'Press Ctrl+C (or ⌘C) to copy the selected link.', copied ? 'success' : 'info');
  }));
  return h('div', { class: 'share' },
    h('div', {},
      h('p', {}, 'My code: ', h('strong', { class: 'code', text: code })),
      field('My share link', input),
      button, notice),
    h('img', { class: 'qr', src: `/api/qr.svg?data=${encodeURIComponent(url)}`, alt: `QR code for ${url}`, width: 160, height: 160 }));
}

const fallbackUrl = (code) => `${window.location.origin}/?ref=${encodeURIComponent(code)}`;

export function shareCard() {
  const body = h('div', {}, h('p', { class: 'muted', role: 'status', text: 'Loading…' }));
  const card = h('section', { class: 'card', 'aria-labelledby': 's-share' }, h('h2', { id: 's-share', text: 'My link' }), body);
  const notice = h('p', { hidden: true });

  function offerCode() {
    const button = h('button', { type: 'button', text: 'Get my referral code' });
    button.addEventListener('click', () => busy(button, notice, async () => {
      const { data } = await post('/api/referral/generate');
      replace(body, linkView(data.referral_code, fallbackUrl(data.referral_code)));
    }));
    replace(body, h('p', { text: 'You have no referral code yet.' }), button, notice);
  }

  (async () => {
    const link = await optional('/api/referral/link');
    if (link) {
      replace(body, linkView(link.data.referral_code, link.data.url));
      return;
    }
    const code = (await get('/api/referral/analytics/summary')).data.my_referral_code;
    if (code) replace(body, linkView(code, fallbackUrl(code)));
    else offerCode();
  })().catch((error) => {
    replace(body, notice);
    say(notice, error.message, 'error');
  });
  return card;
}
