// Dynamic tables: the list, a create-table form, and per table its schema and a rows grid
// with filter, sort, paging, insert, edit and delete.

import { api, del, get, patch, post } from '../api.js';
import {
  busy, confirmTyped, field, form, h, json, mount, notice, pager, short, table, when,
} from '../ui.js';

const TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'uuid', 'json'];

function columnRow() {
  return h('div', { class: 'row column-def' },
    h('input', { name: 'column', placeholder: 'column name', 'aria-label': 'Column name' }),
    h('select', { name: 'type', 'aria-label': 'Column type' },
      ...TYPES.map((t) => h('option', { value: t }, t))),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'required' }), ' required'));
}

export async function tablesPage(ctx, projectId) {
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get(`/projects/${projectId}/database/tables`, { limit: 50, cursor });
    mount(list, table(['Table', 'Rows', 'Columns', 'Created'], page.items.map((t) => [
      h('a', { href: `#/p/${projectId}/tables/${encodeURIComponent(t.table_name)}` }, t.table_name),
      t.row_count,
      Object.keys((t.schema_definition && t.schema_definition.columns) || {}).join(', '),
      when(t.created_at),
    ]), { 'aria-label': 'Tables' }));
    return page;
  });
  const columns = h('div', { class: 'columns' }, columnRow());
  const more = h('button', { type: 'button', class: 'secondary' }, 'Add column');
  more.addEventListener('click', () => columns.append(columnRow()));
  const create = form({ 'aria-label': 'New table' },
    [field('Table name', { name: 'table_name', required: true, pattern: '[A-Za-z_][A-Za-z0-9_]{0,62}' }),
      columns, more],
    'Create table', async (v, f) => {
      const defs = {};
      for (const row of columns.querySelectorAll('.column-def')) {
        const name = row.querySelector('[name=column]').value.trim();
        if (!name) continue;
        defs[name] = {
          type: row.querySelector('[name=type]').value,
          required: row.querySelector('[name=required]').checked,
        };
      }
      await post(`/projects/${projectId}/database/tables`, {
        table_name: v.table_name, schema_definition: { columns: defs },
      });
      notice(`Table ${v.table_name} created.`);
      f.reset();
      mount(columns, columnRow());
      await paging.reset();
    });
  mount(ctx.page, h('h1', {}, 'Tables'),
    h('section', { class: 'card' }, h('h2', {}, 'New table'), create), list, paging.bar);
  await paging.reset();
}

/** A value typed into a cell, read as its column's type. */
function typed(type, text) {
  if (text === '') return undefined;
  switch (type) {
    case 'integer': return Number.parseInt(text, 10);
    case 'number': return Number(text);
    case 'boolean': return text === 'true';
    case 'json': return JSON.parse(text);
    default: return text;
  }
}

function shown(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export async function tablePage(ctx, projectId, name) {
  const base = `/projects/${projectId}/database/tables/${encodeURIComponent(name)}`;
  const info = await get(base);
  const cols = Object.entries((info.schema_definition && info.schema_definition.columns) || {})
    .map(([col, def]) => ({ name: col, type: typeof def === 'string' ? def : def.type }));
  const filterInput = h('input', {
    name: 'filter', placeholder: '{"column": {"$gte": 1}}', 'aria-label': 'Filter (JSON)', size: 40,
  });
  const sortSelect = h('select', { name: 'sort', 'aria-label': 'Sort' },
    h('option', { value: '' }, 'insertion order'),
    ...cols.flatMap((c) => [h('option', { value: c.name }, `${c.name} ↑`),
      h('option', { value: `-${c.name}` }, `${c.name} ↓`)]));
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const grid = h('div');

  function editRow(row, tr) {
    const inputs = cols.map((c) => h('input', {
      name: c.name, value: shown(row.data[c.name]), 'aria-label': c.name,
    }));
    const save = h('button', { type: 'button' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    save.addEventListener('click', () => busy(save, async () => {
      const set = {};
      cols.forEach((c, i) => {
        const v = typed(c.type, inputs[i].value);
        set[c.name] = v === undefined ? null : v;
      });
      await patch(`${base}/rows/${row.row_id}`, { set });
      notice('Row saved.');
      await paging.reload();
    }));
    cancel.addEventListener('click', () => paging.reload());
    mount(tr, ...inputs.map((i) => h('td', {}, i)), h('td', {}, h('div', { class: 'row' }, save, cancel)));
    inputs[0]?.focus();
  }

  const paging = pager(async (cursor) => {
    let filter;
    if (filterInput.value.trim()) {
      try {
        filter = JSON.parse(filterInput.value);
      } catch (e) {
        throw Object.assign(new Error(`the filter is not JSON: ${e.message}`), { code: 'invalid_json' });
      }
    }
    const page = await api('POST', `${base}/rows/query`, {
      filter, sort: sortSelect.value || undefined, limit: 25, cursor: cursor || undefined, count: true,
    });
    count.textContent = `${page.total ?? page.count ?? page.items.length} matching rows`;
    const body = page.items.map((row) => {
      const tr = h('tr', { 'data-row': row.row_id },
        ...cols.map((c) => h('td', {}, short(shown(row.data[c.name]), 60))));
      const edit = h('button', { type: 'button', class: 'secondary' }, 'Edit');
      const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
      edit.addEventListener('click', () => editRow(row, tr));
      remove.addEventListener('click', () => busy(remove, async () => {
        await del(`${base}/rows/${row.row_id}`);
        notice('Row deleted.');
        await paging.reload();
      }));
      tr.append(h('td', {}, h('div', { class: 'row' }, edit, remove)));
      return tr;
    });
    mount(grid, body.length ? h('div', { class: 'scroll' }, h('table', { 'aria-label': 'Rows' },
      h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, `${c.name} (${c.type})`)),
        h('th', {}, ''))),
      h('tbody', {}, ...body))) : h('p', { class: 'empty' }, 'No rows match.'));
    return page;
  });

  const query = form({ 'aria-label': 'Filter rows' },
    [h('label', {}, h('span', {}, 'Filter (JSON)'), filterInput),
      h('label', {}, h('span', {}, 'Sort'), sortSelect)],
    'Apply', () => paging.reset());

  const insert = form({ 'aria-label': 'Insert row' },
    cols.map((c) => field(`${c.name} (${c.type})`, { name: c.name })),
    'Insert row', async (v, f) => {
      const row = {};
      for (const c of cols) {
        const value = typed(c.type, v[c.name]);
        if (value !== undefined) row[c.name] = value;
      }
      await post(`${base}/rows`, { row });
      notice('Row inserted.');
      f.reset();
      await paging.reset();
    });

  const drop = h('button', { type: 'button', class: 'danger' }, 'Delete table');
  drop.addEventListener('click', () => confirmTyped(
    `Delete table ${name} and its ${info.row_count} rows?`, name,
    () => busy(drop, async () => {
      await del(base);
      notice(`Table ${name} deleted.`);
      ctx.go(`#/p/${projectId}/tables`);
    }),
  ));

  mount(ctx.page, h('h1', {}, `Table ${name}`),
    h('section', { class: 'card' }, h('h2', {}, 'Schema'), json(info.schema_definition), drop),
    h('section', { class: 'card' }, h('h2', {}, 'Insert a row'), insert),
    h('section', { class: 'card' }, h('h2', {}, 'Rows'), query, count, grid, paging.bar));
  await paging.reset();
}
