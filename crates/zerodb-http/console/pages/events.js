// Events: publish, a live tail over Server-Sent Events (topic filter, pause, resume from an
// offset) and a consumer group's committed offsets and lag.

import { get, post, query, stream } from '../api.js';
import { field, form, h, mount, notice, report, short, table, when } from '../ui.js';

const MAX_SHOWN = 500;

export async function eventsPage(ctx, projectId) {
  const base = `/projects/${projectId}/database/events`;
  const publish = form({ 'aria-label': 'Publish an event' }, [
    field('Topic', { name: 'topic', required: true }),
    field('Payload (JSON)', { name: 'payload', rows: 2, value: '{}' }),
  ], 'Publish', async (v) => {
    const e = await post(`${base}/publish`, { topic: v.topic, event_payload: JSON.parse(v.payload || '{}') });
    notice(`Published at offset ${e.offset}.`);
  });

  const topic = h('input', { name: 'tail_topic', placeholder: 'all topics', 'aria-label': 'Topic filter' });
  const from = h('input', {
    name: 'from_offset', type: 'number', min: 0, placeholder: 'newest', 'aria-label': 'From offset',
  });
  const start = h('button', { type: 'button' }, 'Start');
  const pause = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Pause');
  const state = h('span', { class: 'muted', 'data-testid': 'tail-state', 'aria-live': 'polite' }, 'stopped');
  const rows = h('tbody');
  let controller = null;
  let lastOffset = null;

  function show(event) {
    lastOffset = event.offset;
    rows.prepend(h('tr', { 'data-offset': event.offset },
      h('td', {}, event.offset), h('td', {}, event.topic), h('td', {}, when(event.published_at)),
      h('td', {}, short(event.event_payload, 200))));
    while (rows.children.length > MAX_SHOWN) rows.lastChild.remove();
  }

  async function follow(fromOffset) {
    controller = new AbortController();
    const signal = controller.signal;
    start.disabled = true;
    pause.disabled = false;
    state.textContent = 'live';
    const params = query({ topic: topic.value.trim(), from_offset: fromOffset });
    try {
      await stream(`${base}/stream${params}`, signal, (frame) => {
        if (frame.event === 'error') {
          report(JSON.parse(frame.data).error || { message: frame.data });
          return;
        }
        show(JSON.parse(frame.data));
      });
      state.textContent = 'ended';
    } catch (err) {
      if (!signal.aborted) {
        report(err);
        state.textContent = 'failed';
      }
    } finally {
      start.disabled = false;
      pause.disabled = true;
    }
  }

  function stop() {
    if (controller) controller.abort();
    controller = null;
  }

  start.addEventListener('click', () => {
    stop();
    const chosen = from.value !== '' ? Number(from.value)
      : lastOffset !== null ? lastOffset + 1 : undefined;
    follow(chosen);
  });
  pause.addEventListener('click', () => {
    stop();
    state.textContent = lastOffset !== null ? `paused after offset ${lastOffset}` : 'paused';
    start.textContent = 'Resume';
    from.value = '';
  });
  ctx.onLeave(stop);

  const consumer = h('div');
  const lookup = form({ 'aria-label': 'Consumer group' }, [field('Group', { name: 'group', required: true })],
    'Show', async (v) => {
      const c = await get(`${base}/consumers/${encodeURIComponent(v.group)}`);
      mount(consumer, h('p', {}, `Log head: offset ${c.last_offset}`),
        table(['Topic', 'Committed offset', 'Lag (offsets)', 'Updated'],
          c.offsets.map((o) => [o.topic, o.committed_offset, o.lag, when(o.updated_at)]),
          { 'aria-label': 'Consumer offsets' }));
    });

  const recent = await get(base, { limit: 1 }).catch(() => null);
  mount(ctx.page, h('h1', {}, 'Events'),
    h('section', { class: 'card' }, h('h2', {}, 'Live tail'),
      h('div', { class: 'row' }, h('label', {}, h('span', {}, 'Topic'), topic),
        h('label', {}, h('span', {}, 'From offset'), from), start, pause, state),
      h('div', { class: 'scroll tail' }, h('table', { 'aria-label': 'Live events' },
        h('thead', {}, h('tr', {}, ...['Offset', 'Topic', 'Published', 'Payload'].map((t) =>
          h('th', { scope: 'col' }, t)))), rows))),
    h('section', { class: 'card' }, h('h2', {}, 'Publish'), publish),
    h('section', { class: 'card' }, h('h2', {}, 'Consumer groups'), lookup, consumer),
    recent && recent.items && recent.items.length ? null : h('p', { class: 'muted' }, 'No events yet.'));
}
