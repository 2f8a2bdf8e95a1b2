import { api } from '../api.js';
import { h, show } from '../dom.js';

export function loginView(done) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'inline',
      'aria-describedby': 'login-error',
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        try {
          await api('POST', '/api/login', { name: name.value, password: password.value });
          await done();
        } catch (err) {
          error.textContent = err.status === 401 ? 'Wrong name or password.' : err.message;
          password.select();
        }
      },
    },
    h('label', {}, 'Name', name),
    h('label', {}, 'Password', password),
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  );
  show(h('h1', {}, 'Log in'), form, error);
}
