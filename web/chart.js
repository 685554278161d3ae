// A 30-day bar chart drawn as SVG by hand: one group of bars per day, one
// bar per series. Sizes are SVG attributes (not style), which the pages'
// Content-Security-Policy allows.
import { h } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 180;
const TOP = 8;
const BOTTOM = 2;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

const pad = (n) => String(n).padStart(2, '0');
const isoDay = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

// The last `count` local days, oldest first, as YYYY-MM-DD.
function lastDays(count = 30) {
  const days = [];
  const today = new Date();
  for (let back = count - 1; back >= 0; back -= 1) {
    days.push(isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - back)));
  }
  return days;
}

export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// series: [{label, key, cls}], rows: API day objects with `date` and the keys.
export function dailyChart(title, series, rows) {
  const days = lastDays();
  const byDate = new Map(rows.map((row) => [row.date, row]));
  const value = (date, key) => Number((byDate.get(date) || {})[key] || 0);
  const max = Math.max(1, ...days.flatMap((date) => series.map((s) => value(date, s.key))));
  const slot = WIDTH / days.length;
  const barWidth = (slot - 2) / series.length;
  const plot = HEIGHT - TOP - BOTTOM;
  const totals = series.map((s) => `${s.label} ${days.reduce((sum, date) => sum + value(date, s.key), 0)}`);

  const bars = days.flatMap((date, index) => series.map((s, position) => {
    const n = value(date, s.key);
    const height = (n / max) * plot;
    return svg('rect', {
      class: s.cls, x: index * slot + 1 + position * barWidth, y: TOP + plot - height,
      width: Math.max(barWidth - 0.5, 0.5), height,
    }, svg('title', {}, `${date}: ${n} ${s.label.toLowerCase()}`));
  }));
  const picture = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart',
    'aria-label': `${title}, last 30 days: ${totals.join(', ')}`,
  },
  svg('line', { class: 'axis', x1: 0, y1: TOP + plot, x2: WIDTH, y2: TOP + plot }),
  ...bars);
  // Axis labels are HTML, not SVG text: they keep their size when the
  // picture shrinks to a phone's width.
  const axis = h('div', { class: 'chart-axis' },
    h('span', { text: days[0] }), h('span', { text: `highest day: ${max}` }), h('span', { text: days[days.length - 1] }));
  const legend = h('ul', { class: 'legend' },
    series.map((s, i) => h('li', {}, h('span', { class: `swatch ${s.cls}`, 'aria-hidden': 'true' }), totals[i])));
  return h('figure', { class: 'chart-box' }, picture, axis, legend);
}
