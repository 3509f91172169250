// Administrators: system statistics, every project, and usage per day as a chart.

import { get } from '../api.js';
import { barChart, field, form, h, mount, pager, table, when } from '../ui.js';

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export async function adminPage(ctx) {
  const stats = await get('/admin/zerodb/stats');
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get('/admin/zerodb/projects', { limit: 25, cursor });
    mount(list, table(['Project', 'Owner', 'Database', 'Active', 'Created'], page.items.map((p) => [
      h('a', { href: `#/p/${p.project_id}/database` }, p.project_name),
      h('code', {}, p.user_id), p.database_enabled ? 'enabled' : 'not enabled',
      p.is_active ? 'yes' : 'no', when(p.created_at),
    ]), { 'aria-label': 'All projects' }));
    return page;
  });
  const chart = h('div');
  async function usage(from, to) {
    const u = await get('/admin/zerodb/usage/analytics', { from, to });
    const perDay = new Map();
    for (let d = new Date(`${u.from}T00:00:00Z`); isoDay(d) <= u.to; d.setUTCDate(d.getUTCDate() + 1)) {
      perDay.set(isoDay(d), 0);
    }
    for (const row of u.items) perDay.set(row.day, (perDay.get(row.day) || 0) + row.requests);
    mount(chart, barChart([...perDay].map(([day, n]) => ({ label: day.slice(5), value: n })),
      { title: `Requests per day, ${u.from} to ${u.to}` }));
  }
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  const range = form({ 'aria-label': 'Usage range' }, [
    field('From', { name: 'from', type: 'date', value: isoDay(monthAgo) }),
    field('To', { name: 'to', type: 'date', value: isoDay(today) }),
  ], 'Show', (v) => usage(v.from, v.to));
  const t = stats.totals;
  mount(ctx.page, h('h1', {}, 'Administration'),
    h('section', { class: 'card' }, h('h2', {}, 'System'),
      h('div', { class: 'stats' },
        ...[['users', stats.users], ['projects', stats.projects], ['tables', t.tables],
          ['rows', t.rows], ['API keys', t.api_keys], ['database bytes', stats.database_bytes],
          ['uptime (s)', stats.uptime_seconds], ['version', stats.version]]
          .map(([label, value]) => h('div', { class: 'stat' }, h('b', {}, value), label)))),
    h('section', { class: 'card' }, h('h2', {}, 'Usage'), range, chart),
    h('section', { class: 'card' }, h('h2', {}, 'Projects'), list, paging.bar));
  await Promise.all([paging.reset(), usage(isoDay(monthAgo), isoDay(today))]);
}
