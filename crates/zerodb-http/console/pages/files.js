// Files: drag-and-drop upload with progress, list by prefix, download, signed links.

import { del, download, get, post, query, upload } from '../api.js';
import {
  busy, copyButton, field, form, h, mount, notice, pager, report, table, when,
} from '../ui.js';

function size(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function filesPage(ctx, projectId) {
  const base = `/projects/${projectId}/database/files`;
  let prefix = '';
  const list = h('div');
  const link = h('div', { 'aria-live': 'polite' });
  const paging = pager(async (cursor) => {
    const page = await get(base, { prefix, limit: 25, cursor });
    mount(list, table(['Key', 'Name', 'Type', 'Size', 'Created', ''], page.items.map((f) => {
      const dl = h('button', { type: 'button', class: 'secondary' }, 'Download');
      dl.addEventListener('click', () => busy(dl, () =>
        download(`${base}/${f.file_id}/content`, f.file_name)));
      const sign = h('button', { type: 'button', class: 'secondary' }, 'Signed link');
      sign.addEventListener('click', () => busy(sign, async () => {
        const signed = await post(`${base}/${f.file_id}/url`, { expires_in: 3600 });
        const url = new URL(signed.url, window.location.origin).href;
        mount(link, h('section', { class: 'card' },
          h('p', {}, `Anyone with this link can download ${f.file_name} until ${when(signed.expires_at)}:`),
          h('div', { class: 'row' }, h('a', { href: url, 'data-testid': 'signed-link' }, url), copyButton(url))));
      }));
      const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
      remove.addEventListener('click', () => busy(remove, async () => {
        await del(`${base}/${f.file_id}`);
        notice(`${f.file_name} deleted.`);
        await paging.reload();
      }));
      return [f.file_key, f.file_name, f.content_type, size(f.size_bytes), when(f.created_at),
        h('div', { class: 'row' }, dl, sign, remove)];
    }), { 'aria-label': 'Files' }));
    return page;
  });

  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const picker = h('input', { type: 'file', multiple: true, 'aria-label': 'Choose files' });
  const drop = h('div', { class: 'drop', tabindex: 0 },
    h('p', {}, 'Drop files here, or choose them: '), picker);
  async function send(files) {
    for (const file of files) {
      progress.hidden = false;
      progress.value = 0;
      status.textContent = `Uploading ${file.name}…`;
      try {
        await upload(`${base}/upload${query({ file_name: file.name })}`, file, (f) => {
          progress.value = f;
        });
        status.textContent = `${file.name} uploaded.`;
      } catch (err) {
        status.textContent = '';
        report(err);
        break;
      } finally {
        progress.hidden = true;
      }
    }
    picker.value = '';
    await paging.reset();
  }
  picker.addEventListener('change', () => send([...picker.files]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    send([...e.dataTransfer.files]);
  });

  const filter = form({ 'aria-label': 'Filter files' }, [field('Key prefix', { name: 'prefix' })], 'List',
    (v) => {
      prefix = v.prefix;
      return paging.reset();
    });
  mount(ctx.page, h('h1', {}, 'Files'),
    h('section', { class: 'card' }, h('h2', {}, 'Upload'), drop, progress, status),
    link,
    h('section', { class: 'card' }, h('h2', {}, 'Files'), filter, list, paging.bar));
  await paging.reset();
}
