// DOM helpers shared by the pages. No inline styles or scripts: the Content-Security-Policy
// forbids them, so sizes go through SVG attributes and <meter>/<progress> elements.

/** Creates an element: `h('button', {class: 'x', onclick: f}, 'text', child)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Shows an API error (code and message) or a notice in the page's alert region. */
export function report(err) {
  const region = document.getElementById('alert');
  if (!region) return;
  if (!err) {
    mount(region);
    region.hidden = true;
    return;
  }
  const code = err.code ? h('code', {}, err.code) : null;
  mount(region, h('div', { class: 'error' }, code, ' ', err.message || String(err)));
  region.hidden = false;
}

export function notice(message) {
  const region = document.getElementById('alert');
  if (!region) return;
  mount(region, h('div', { class: 'notice' }, message));
  region.hidden = false;
}

/**
 * Runs `work` with `button` disabled and marked busy; reports its error. Answers the
 * result, or undefined when it failed.
 */
export async function busy(button, work) {
  const label = button ? button.textContent : '';
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    button.textContent = `${label}…`;
  }
  try {
    report(null);
    return await work();
  } catch (err) {
    report(err);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      button.textContent = label;
    }
  }
}

/** A form whose submit runs `onSubmit(values, form)` with its submit button busy. */
export function form(attrs, fields, submitLabel, onSubmit) {
  const submit = h('button', { type: 'submit' }, submitLabel);
  const f = h('form', attrs, ...fields, submit);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(f).entries());
    busy(submit, () => onSubmit(values, f));
  });
  return f;
}

/** A labelled input. */
export function field(label, attrs = {}) {
  const input = attrs.rows ? h('textarea', attrs) : h('input', attrs);
  return h('label', {}, h('span', {}, label), input);
}

export function select(label, name, options, value) {
  return h('label', {}, h('span', {}, label), h('select', { name },
    ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

/** A table from column headings and rows of cells (strings or nodes). */
export function table(headings, rows, attrs = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, 'Nothing here yet.');
  return h('div', { class: 'scroll' }, h('table', attrs,
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))));
}

export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export function short(value, max = 80) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > max ? `${text.slice(0, max)}…` : text ?? '';
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** A button that copies `text` to the clipboard. */
export function copyButton(text) {
  const b = h('button', { type: 'button', class: 'secondary' }, 'Copy');
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
  });
  return b;
}

/** Asks the user to type `expected` before `onConfirm` runs. */
export function confirmTyped(message, expected, onConfirm) {
  const input = h('input', { name: 'confirm', autocomplete: 'off', 'aria-label': `Type ${expected}` });
  const ok = h('button', { type: 'submit', class: 'danger', disabled: true }, 'Delete');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const dialog = h('dialog', { class: 'confirm' }, h('form', { method: 'dialog' },
    h('p', {}, message), h('p', {}, 'Type ', h('strong', {}, expected), ' to confirm.'),
    input, h('div', { class: 'row' }, ok, cancel)));
  input.addEventListener('input', () => { ok.disabled = input.value !== expected; });
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  ok.addEventListener('click', (e) => {
    e.preventDefault();
    if (input.value !== expected) return;
    dialog.close();
    onConfirm();
  });
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}

/** A vertical bar chart of `bars` ([{label, value}]) as SVG, with a text alternative. */
export function barChart(bars, { title, height = 160 } = {}) {
  const width = Math.max(320, bars.length * 28);
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = width / Math.max(1, bars.length);
  const plot = height - 24;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': title || 'chart',
  });
  bars.forEach((b, i) => {
    const barHeight = (b.value / max) * (plot - 14);
    const x = i * slot + slot * 0.15;
    const rect = s('rect', {
      x, y: plot - barHeight, width: slot * 0.7, height: Math.max(barHeight, 0.5), class: 'bar',
    });
    rect.append(s('title', {}, `${b.label}: ${b.value}`));
    svg.append(rect);
    svg.append(s('text', { x: x + slot * 0.35, y: plot - barHeight - 3, class: 'value' }, b.value));
    if (bars.length <= 16 || i % Math.ceil(bars.length / 16) === 0) {
      svg.append(s('text', { x: x + slot * 0.35, y: height - 6, class: 'label' }, b.label));
    }
  });
  return h('figure', {}, svg, title ? h('figcaption', {}, title) : null);
}

/** A labelled bar for a value in [0, 1]. */
export function meter(label, value) {
  const v = Number.isFinite(value) ? value : 0;
  return h('div', { class: 'meter' }, h('span', {}, label),
    h('meter', { min: 0, max: 1, value: v, 'aria-label': label }), h('span', {}, v.toFixed(3)));
}

/** Cursor paging: calls `load(cursor)` and renders next/previous buttons. */
export function pager(load) {
  const stack = [];
  let current = null;
  const prev = h('button', { type: 'button', class: 'secondary', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Next →');
  const bar = h('div', { class: 'row pager' }, prev, next);
  async function show(cursor) {
    const page = await load(cursor);
    current = cursor;
    prev.disabled = stack.length === 0;
    next.disabled = !page || !page.next_cursor;
    next.onclick = () => busy(next, async () => {
      stack.push(current);
      await show(page.next_cursor);
    });
  }
  prev.onclick = () => busy(prev, () => show(stack.pop() ?? null));
  return {
    bar,
    reload: () => busy(null, () => show(current)),
    reset: () => {
      stack.length = 0;
      return busy(null, () => show(null));
    },
  };
}
