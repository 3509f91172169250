// A project's database: enable it, its status, configuration, rate limits and quotas.

import { get, post, put, session } from '../api.js';
import { barChart, busy, form, h, json, mount, notice, table } from '../ui.js';

function stat(label, value) {
  return h('div', { class: 'stat' }, h('b', {}, value ?? '–'), label);
}

export async function databasePage(ctx, projectId) {
  const project = await get(`/projects/${projectId}`);
  const status = await get(`/projects/${projectId}/database`);
  const body = [h('h1', {}, project.project_name)];
  if (!status.enabled) {
    const enable = h('button', { type: 'button' }, 'Enable database');
    enable.addEventListener('click', () => busy(enable, async () => {
      await post(`/projects/${projectId}/database`);
      notice('Database enabled.');
      await databasePage(ctx, projectId);
    }));
    body.push(h('section', { class: 'card' },
      h('p', {}, 'The database of this project is not enabled yet.'), enable));
    mount(ctx.page, ...body);
    return;
  }
  const s = status.statistics;
  body.push(h('section', { class: 'card' }, h('h2', {}, 'Status'),
    h('p', {}, 'Database ', h('strong', { 'data-testid': 'db-state' }, 'enabled'),
      '; embedding model ', h('code', {}, status.embedding_model ? status.embedding_model.model : 'none'),
      status.embedding_model ? ` (${status.embedding_model.dimension} dimensions)` : ''),
    h('div', { class: 'stats' },
      stat('tables', s.tables), stat('rows', s.rows), stat('API keys', s.api_keys),
      stat('RLHF records', s.rlhf_records), stat('agent logs', s.agent_logs),
      stat('vector namespaces', status.vector_namespaces.length))));

  const config = status.config || {};
  const editor = h('textarea', {
    name: 'config', rows: 8, 'aria-label': 'Database configuration (JSON)',
    value: JSON.stringify(config, null, 2),
  });
  body.push(h('section', { class: 'card' }, h('h2', {}, 'Configuration'),
    h('p', { class: 'muted' }, 'Keys: max_rows_per_table, max_tables, rate_limit_per_second, ',
      'rate_limit_burst, memory_retention_days, memory_ranking, embedding_model (one of ',
      status.embedding_models.map((m) => m.model).join(', '), ').'),
    form({ 'aria-label': 'Database configuration' }, [editor], 'Save configuration', async () => {
      let parsed;
      try {
        parsed = JSON.parse(editor.value || '{}');
      } catch (e) {
        throw Object.assign(new Error(`not JSON: ${e.message}`), { code: 'invalid_json' });
      }
      await put(`/projects/${projectId}/database`, parsed);
      notice('Configuration saved.');
    })));

  body.push(h('section', { class: 'card' }, h('h2', {}, 'Rate limits and quotas'),
    h('p', {}, 'Each API key of this project may make ',
      h('strong', {}, config.rate_limit_per_second ?? 'the server default'),
      ' requests per second (burst ', h('strong', {}, config.rate_limit_burst ?? config.rate_limit_per_second ?? 'default'),
      '). Tables: at most ', h('strong', {}, config.max_tables ?? 1000), '; rows per table: ',
      h('strong', {}, config.max_rows_per_table ?? 'unlimited'), '.'),
    session.user.role === 'admin' ? await quotas(projectId) : h('p', { class: 'muted' },
      'Per-project quotas (vectors, memories, events, file bytes) are set by administrators.')));

  const histogram = status.rlhf.histogram.map((b) => ({ label: b.lower.toFixed(2), value: b.count }));
  body.push(h('section', { class: 'card' }, h('h2', {}, 'Vector namespaces'),
    table(['Namespace', 'Vectors', 'Dimension', 'Metric', 'Quantization', 'Model'],
      status.vector_namespaces.map((n) => [n.namespace, n.vector_count, n.dimension ?? '–',
        n.metric, n.quantization, n.embedding_model ?? '–'])),
    histogram.length ? barChart(histogram, { title: 'RLHF rewards' }) : null));
  mount(ctx.page, ...body);
}

async function quotas(projectId) {
  try {
    const q = await get(`/admin/zerodb/projects/${projectId}/quotas`);
    return h('div', {}, h('p', {}, 'Effective quotas (administrator view):'), json(q.effective));
  } catch (err) {
    return h('p', { class: 'muted' }, `Quotas unavailable: ${err.message}`);
  }
}
