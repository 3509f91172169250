// The console's shell: routes (`#/...`), the navigation and the signed-in user's menu.

import { session, signedIn, signOut } from './api.js';
import { h, mount, report } from './ui.js';
import { signInPage, signUpPage } from './pages/auth.js';
import { projectsPage } from './pages/projects.js';
import { databasePage } from './pages/database.js';
import { keysPage } from './pages/keys.js';
import { tablesPage, tablePage } from './pages/tables.js';
import { vectorsPage } from './pages/vectors.js';
import { memoryPage } from './pages/memory.js';
import { eventsPage } from './pages/events.js';
import { filesPage } from './pages/files.js';
import { rlhfPage } from './pages/rlhf.js';
import { logsPage } from './pages/logs.js';
import { adminPage } from './pages/admin.js';

const PROJECT_SECTIONS = [
  ['database', 'Database', databasePage],
  ['keys', 'API keys', keysPage],
  ['tables', 'Tables', tablesPage],
  ['vectors', 'Vectors', vectorsPage],
  ['memory', 'Memory', memoryPage],
  ['events', 'Events', eventsPage],
  ['files', 'Files', filesPage],
  ['rlhf', 'RLHF', rlhfPage],
  ['logs', 'Agent logs', logsPage],
];

/** Whatever the current page left running (a live tail) stops when the route changes. */
let cleanup = null;

export function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function userMenu() {
  const menu = document.getElementById('user');
  if (!session.user) {
    mount(menu, h('a', { href: '#/signin' }, 'Sign in'), h('a', { href: '#/signup' }, 'Sign up'));
    return;
  }
  const out = h('button', { type: 'button' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    go('#/signin');
  });
  mount(menu,
    session.user.role === 'admin' ? h('a', { href: '#/admin' }, 'Admin') : null,
    h('span', { 'data-testid': 'whoami' }, session.user.email), out);
}

function navigation(projectId, section) {
  const nav = document.getElementById('nav');
  if (!signedIn()) {
    mount(nav);
    return;
  }
  const link = (href, text, current) =>
    h('a', { href, 'aria-current': current ? 'page' : null }, text);
  mount(nav,
    link('#/projects', 'Projects', !projectId && section === 'projects'),
    projectId ? h('h2', {}, 'Project') : null,
    ...(projectId ? PROJECT_SECTIONS.map(([key, text]) =>
      link(`#/p/${projectId}/${key}`, text, key === section)) : []),
    session.user && session.user.role === 'admin'
      ? link('#/admin', 'Admin', section === 'admin') : null);
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  report(null);
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = document.getElementById('page');
  const [first, projectId, section, ...rest] = parts;
  if (!signedIn() && first !== 'signup') {
    userMenu();
    navigation(null, null);
    signInPage(page);
    return;
  }
  userMenu();
  const ctx = {
    page,
    go,
    onLeave: (f) => { cleanup = f; },
  };
  try {
    if (first === 'signup') {
      navigation(null, null);
      signUpPage(page);
    } else if (first === 'p' && projectId) {
      const entry = PROJECT_SECTIONS.find(([key]) => key === section) || PROJECT_SECTIONS[0];
      navigation(projectId, entry[0]);
      if (entry[0] === 'tables' && rest.length) await tablePage(ctx, projectId, rest[0]);
      else await entry[2](ctx, projectId);
    } else if (first === 'admin') {
      navigation(null, 'admin');
      await adminPage(ctx);
    } else {
      navigation(null, 'projects');
      await projectsPage(ctx);
    }
  } catch (err) {
    report(err);
  }
  document.getElementById('main').focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
window.addEventListener('zerodb:signed-out', () => go('#/signin'));
route();
