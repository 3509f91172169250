// RLHF feedback: the reward histogram as a chart, recent records, and the JSONL export.

import { download, get, query } from '../api.js';
import { barChart, busy, h, mount, pager, short, table, when } from '../ui.js';

export async function rlhfPage(ctx, projectId) {
  const status = await get(`/projects/${projectId}/database`);
  const r = status.rlhf;
  const bars = r.histogram.map((b) => ({ label: `${b.lower.toFixed(2)}`, value: b.count }));
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get(`/projects/${projectId}/database/rlhf`, { limit: 25, cursor });
    mount(list, table(['Created', 'Prompt', 'Output', 'Reward', 'Rating', 'Tags'],
      page.items.map((x) => [when(x.created_at), short(x.input_prompt, 100),
        short(x.model_output ?? x.chosen_output ?? '', 100), x.reward_score ?? '–', x.rating ?? '–',
        x.tags.join(', ')]), { 'aria-label': 'RLHF records' }));
    return page;
  });
  const exportButton = h('button', { type: 'button' }, 'Export JSONL');
  exportButton.addEventListener('click', () => busy(exportButton, () => download(
    `/projects/${projectId}/database/rlhf/export${query({ format: 'jsonl' })}`, 'rlhf.jsonl')));
  mount(ctx.page, h('h1', {}, 'RLHF feedback'),
    h('section', { class: 'card' }, h('h2', {}, 'Rewards'),
      h('p', {}, `${r.count} records, ${r.rewarded} with a reward; mean `,
        r.mean_reward === null || r.mean_reward === undefined ? '–' : r.mean_reward.toFixed(3),
        `, min ${r.min_reward ?? '–'}, max ${r.max_reward ?? '–'}.`),
      bars.length ? barChart(bars, { title: 'Reward histogram (records per reward bucket)' })
        : h('p', { class: 'empty' }, 'No rewards yet.'),
      exportButton),
    h('section', { class: 'card' }, h('h2', {}, 'Records'), list, paging.bar));
  await paging.reset();
}
