// Agent memory: list by agent and session, and search with the score breakdown
// (similarity, recency, importance) drawn as bars.

import { get, post } from '../api.js';
import { field, form, h, meter, mount, pager, select, short, table, when } from '../ui.js';

export async function memoryPage(ctx, projectId) {
  const base = `/projects/${projectId}/database/memory`;
  let filters = {};
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get(base, { ...filters, limit: 25, cursor });
    mount(list, table(['Created', 'Agent', 'Session', 'Role', 'Content', 'Importance'],
      page.items.map((m) => [when(m.created_at), h('code', {}, short(m.agent_id, 8)),
        h('code', {}, short(m.session_id, 8)), m.role, short(m.content, 140), m.importance]),
      { 'aria-label': 'Memories' }));
    return page;
  });
  const filter = form({ 'aria-label': 'Filter memories' }, [
    field('Agent id', { name: 'agent_id', size: 36 }),
    field('Session id', { name: 'session_id', size: 36 }),
  ], 'List', (v) => {
    filters = { agent_id: v.agent_id.trim(), session_id: v.session_id.trim() };
    return paging.reset();
  });
  const hits = h('div', { 'aria-live': 'polite' });
  const search = form({ 'aria-label': 'Search memory' }, [
    field('Query', { name: 'query', required: true, size: 40 }),
    select('Mode', 'mode', [['hybrid', 'hybrid'], ['semantic', 'semantic'], ['lexical', 'lexical']], 'hybrid'),
    field('Agent id', { name: 'agent_id', size: 36 }),
    field('Limit', { name: 'limit', type: 'number', min: 1, max: 1000, value: '10' }),
  ], 'Search', async (v) => {
    const found = await post(`${base}/search`, {
      query: v.query, mode: v.mode, agent_id: v.agent_id.trim() || undefined,
      limit: Number(v.limit) || 10,
    });
    mount(hits, found.results.length ? h('ol', { class: 'hits' }, ...found.results.map((r) =>
      h('li', {}, h('p', {}, h('strong', {}, r.score.toFixed(3)), ' ', r.memory.content),
        meter('similarity', r.score_breakdown.similarity),
        meter('recency', r.score_breakdown.recency),
        meter('importance', r.score_breakdown.importance)))) : h('p', { class: 'empty' }, 'No memory matches.'));
  });
  mount(ctx.page, h('h1', {}, 'Memory'),
    h('section', { class: 'card' }, h('h2', {}, 'Search'), search, hits),
    h('section', { class: 'card' }, h('h2', {}, 'Memories'), filter, list, paging.bar));
  await paging.reset();
}
