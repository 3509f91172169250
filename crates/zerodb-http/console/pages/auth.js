// Sign in and sign up. The token the API answers stays in memory (see api.js).

import { post, signIn } from '../api.js';
import { field, form, h, mount } from '../ui.js';

async function login(email, password) {
  const answer = await post('/auth/login', { email, password });
  signIn(answer.access_token, answer.user);
  window.location.hash = '#/projects';
}

export function signInPage(page) {
  mount(page, h('h1', {}, 'Sign in'), h('section', { class: 'card' },
    form({ class: 'stack', 'aria-label': 'Sign in' }, [
      field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'username' }),
      field('Password', {
        name: 'password', type: 'password', required: true, autocomplete: 'current-password',
      }),
    ], 'Sign in', (v) => login(v.email, v.password)),
    h('p', {}, 'No account? ', h('a', { href: '#/signup' }, 'Sign up'), '.')));
  page.querySelector('input').focus();
}

export function signUpPage(page) {
  mount(page, h('h1', {}, 'Sign up'), h('section', { class: 'card' },
    form({ class: 'stack', 'aria-label': 'Sign up' }, [
      field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'username' }),
      field('Password (at least 8 characters)', {
        name: 'password', type: 'password', required: true, minlength: 8,
        autocomplete: 'new-password',
      }),
    ], 'Create account', async (v) => {
      await post('/auth/register', { email: v.email, password: v.password });
      await login(v.email, v.password);
    }),
    h('p', {}, 'Have an account? ', h('a', { href: '#/signin' }, 'Sign in'), '.')));
  page.querySelector('input').focus();
}
