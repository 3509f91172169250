// The signed-in user's projects: list, create, delete (typed confirmation).

import { del, get, post } from '../api.js';
import { busy, confirmTyped, field, form, h, mount, notice, pager, table, when } from '../ui.js';

export async function projectsPage(ctx) {
  const list = h('div');
  const paging = pager(async (cursor) => {
    const page = await get('/projects', { limit: 50, cursor });
    mount(list, table(['Project', 'Database', 'Created', ''], page.items.map((p) => {
      const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
      remove.addEventListener('click', () => confirmTyped(
        `Delete project ${p.project_name} and all its data? This cannot be undone.`,
        p.project_name,
        () => busy(remove, async () => {
          await del(`/projects/${p.project_id}`);
          notice(`Project ${p.project_name} deleted.`);
          await paging.reset();
        }),
      ));
      return [
        h('a', { href: `#/p/${p.project_id}/database` }, p.project_name),
        p.database_enabled ? 'enabled' : 'not enabled',
        when(p.created_at),
        remove,
      ];
    }), { 'aria-label': 'Projects' }));
    return page;
  });
  mount(ctx.page,
    h('h1', {}, 'Projects'),
    h('section', { class: 'card' }, h('h2', {}, 'New project'),
      form({ 'aria-label': 'New project' }, [
        field('Name', { name: 'project_name', required: true, maxlength: 100 }),
        field('Description', { name: 'description' }),
      ], 'Create project', async (v, f) => {
        const p = await post('/projects', {
          project_name: v.project_name,
          description: v.description || undefined,
        });
        f.reset();
        notice(`Project ${p.project_name} created.`);
        await paging.reset();
      })),
    list, paging.bar);
  await paging.reset();
}
