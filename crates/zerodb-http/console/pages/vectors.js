// Vectors: namespaces with their counts and settings; search by text (hybrid, by meaning
// or by words, embedded on the server with the namespace's model) or by a pasted vector,
// with scores, their breakdown and metadata.

import { get, post } from '../api.js';
import { field, form, h, json, mount, select, short, table } from '../ui.js';

export async function vectorsPage(ctx, projectId) {
  const base = `/projects/${projectId}`;
  const namespaces = await get(`${base}/database/vector-namespaces`);
  const list = Array.isArray(namespaces) ? namespaces : namespaces.items;
  const results = h('div', { 'aria-live': 'polite' });
  const search = form({ 'aria-label': 'Vector search' }, [
    select('Namespace', 'namespace', list.map((n) => [n.namespace, n.namespace]),
      list[0] ? list[0].namespace : 'default'),
    select('Search by', 'by', [['text', 'text'], ['vector', 'vector (JSON array)']], 'text'),
    select('Mode (text)', 'mode', [['hybrid', 'hybrid: meaning and words'],
      ['semantic', 'semantic: meaning'], ['lexical', 'lexical: words']], 'hybrid'),
    field('Query', { name: 'query', rows: 3, required: true }),
    field('Limit', { name: 'limit', type: 'number', min: 1, max: 1000, value: '10' }),
    field('Metadata filter (JSON, optional)', { name: 'filter' }),
  ], 'Search', async (v) => {
    const byVector = v.by === 'vector';
    const found = await post(`${base}/database/vectors/search`, {
      namespace: v.namespace || undefined,
      query_vector: byVector ? JSON.parse(v.query) : undefined,
      query: byVector ? undefined : v.query,
      mode: byVector ? undefined : v.mode,
      limit: Number(v.limit) || 10,
      filter: v.filter ? JSON.parse(v.filter) : undefined,
    });
    const part = (x) => (x === null || x === undefined ? '–' : x.toFixed(3));
    const breakdown = (b) => (b ? `semantic ${part(b.semantic)} · lexical ${part(b.lexical)}` : '');
    mount(results,
      h('p', { class: 'muted' }, `${found.count} results, ${found.mode} (served by ${found.served_by})`),
      table(['Score', 'Breakdown', 'Vector', 'Document', 'Metadata'], found.results.map((r) => [
        r.score.toFixed(4), breakdown(r.score_breakdown), h('code', {}, r.vector_id),
        short(r.document ?? '', 120), json(r.vector_metadata),
      ]), { 'aria-label': 'Search results' }));
  });
  mount(ctx.page, h('h1', {}, 'Vectors'),
    h('section', { class: 'card' }, h('h2', {}, 'Namespaces'),
      table(['Namespace', 'Vectors', 'Dimension', 'Metric', 'Quantization', 'Model', 'Indexed'],
        list.map((n) => [n.namespace, n.vector_count, n.dimension ?? '–', n.metric,
          n.quantization, n.embedding_model ?? '–', n.indexed_vectors ?? '–']),
        { 'aria-label': 'Namespaces' })),
    h('section', { class: 'card' }, h('h2', {}, 'Search'), search, results));
}
