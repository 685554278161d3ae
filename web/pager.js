import { get } from './api.js';
import { busy, empty, h, labelCells, loading, replace, say, show, table } from './dom.js';

// A table fed by a paginated list endpoint: the first page, then "Show more"
// while the answer has a Link rel="next" header (docs/API.md, Lists).
// `row(item, reload)` makes one <tr>.
export function pagedTable({ url, headings, row, emptyText }) {
  const body = h('div', {});
  const notice = h('p', { hidden: true });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, text: 'Show more' });
  const element = h('div', { class: 'paged' }, body, notice, more);
  let next = null;
  let tbody = null;

  async function load(path) {
    const page = await get(path);
    next = page.next;
    show(more, Boolean(next));
    return page.data;
  }

  async function reload(newUrl = url) {
    url = newUrl;
    replace(body, loading());
    say(notice, '');
    try {
      const items = await load(url);
      if (items.length === 0) {
        replace(body, empty(emptyText));
        return;
      }
      const rendered = table(headings, items.map((item) => row(item, () => reload())));
      tbody = rendered.querySelector('tbody');
      replace(body, rendered);
    } catch (error) {
      replace(body);
      say(notice, error.message, 'error');
    }
  }

  more.addEventListener('click', () => busy(more, notice, async () => {
    const items = await load(next);
    tbody.append(...labelCells(headings, items.map((item) => row(item, () => reload()))));
  }));

  reload();
  return { element, reload };
}
