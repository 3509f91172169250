// Agent logs with filters: agent, session, minimum level, text, time range.

import { get } from '../api.js';
import { field, form, h, json, mount, pager, select, table, when } from '../ui.js';

const LEVELS = ['', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export async function logsPage(ctx, projectId) {
  let filters = {};
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get(`/projects/${projectId}/database/agent/logs`, { ...filters, limit: 50, cursor });
    mount(list, table(['Time', 'Level', 'Agent', 'Message', 'Payload'], page.items.map((l) => [
      when(l.created_at), l.log_level, h('code', {}, l.agent_id), l.log_message,
      l.raw_payload ? json(l.raw_payload) : '',
    ]), { 'aria-label': 'Agent logs' }));
    return page;
  });
  const filter = form({ 'aria-label': 'Filter logs' }, [
    field('Agent id', { name: 'agent_id', size: 36 }),
    field('Session id', { name: 'session_id', size: 36 }),
    select('Minimum level', 'min_level', LEVELS.map((l) => [l, l || 'any']), ''),
    field('Message contains', { name: 'contains' }),
    field('Since', { name: 'since', type: 'datetime-local' }),
    field('Until', { name: 'until', type: 'datetime-local' }),
  ], 'Apply', (v) => {
    const iso = (local) => (local ? new Date(local).toISOString() : '');
    filters = {
      agent_id: v.agent_id.trim(), session_id: v.session_id.trim(), min_level: v.min_level,
      contains: v.contains, since: iso(v.since), until: iso(v.until),
    };
    return paging.reset();
  });
  mount(ctx.page, h('h1', {}, 'Agent logs'), h('section', { class: 'card' }, filter), list, paging.bar);
  await paging.reset();
}
