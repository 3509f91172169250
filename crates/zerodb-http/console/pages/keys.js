// API keys: create with scopes (the secret shown once), list, revoke.

import { del, get, post } from '../api.js';
import { busy, copyButton, field, form, h, mount, notice, table, when } from '../ui.js';

const AREAS = ['database', 'tables', 'vectors', 'memory', 'events', 'files', 'rlhf', 'agent'];

export async function keysPage(ctx, projectId) {
  const list = h('div');
  const secret = h('div', { 'aria-live': 'polite' });
  async function refresh() {
    const keys = await get(`/projects/${projectId}/api-keys`);
    const items = Array.isArray(keys) ? keys : keys.items;
    mount(list, table(['Name', 'Prefix', 'Scopes', 'Created', 'Last used', ''], items.map((k) => {
      const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
      revoke.addEventListener('click', () => busy(revoke, async () => {
        await del(`/projects/${projectId}/api-keys/${k.key_id}`);
        notice(`Key ${k.name} revoked.`);
        await refresh();
      }));
      return [k.name, h('code', {}, k.key_prefix), k.scopes.join(' '), when(k.created_at),
        when(k.last_used_at) || 'never', revoke];
    }), { 'aria-label': 'API keys' }));
  }
  const scopes = h('fieldset', {}, h('legend', {}, 'Scopes'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scope:*' }), ' * (everything)'),
    ...AREAS.flatMap((a) => ['read', 'write'].map((op) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: `scope:${a}:${op}` }), ` ${a}:${op}`))));
  mount(ctx.page, h('h1', {}, 'API keys'),
    h('section', { class: 'card' }, h('h2', {}, 'New key'),
      form({ 'aria-label': 'New API key' }, [field('Name', { name: 'name', value: 'default' }), scopes],
        'Create key', async (v, f) => {
          const chosen = Object.keys(v).filter((k) => k.startsWith('scope:')).map((k) => k.slice(6));
          const created = await post(`/projects/${projectId}/api-keys`, {
            name: v.name || undefined, scopes: chosen,
          });
          f.reset();
          mount(secret, h('section', { class: 'card' },
            h('p', {}, h('strong', {}, 'Copy this key now: it is shown only once.')),
            h('div', { class: 'row' },
              h('span', { class: 'secret', 'data-testid': 'new-key' }, created.api_key),
              copyButton(created.api_key))));
          await refresh();
        })),
    secret, list);
  await refresh();
}
