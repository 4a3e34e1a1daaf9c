// The console shell: sign-in, hash routing (#/page?params), and polling of the live pages.
import { api, session, Unauthorized } from './api.js';
import { errorBox, h } from './dom.js';
import { Rates } from './metrics.js';
import * as overview from './pages/overview.js';

const POLL_MS = 2000;
/** Pages other than the overview load when first visited. */
const PAGES = {
  overview: () => Promise.resolve(overview),
  destinations: () => import('./pages/destinations.js'),
  consumers: () => import('./pages/consumers.js'),
  connections: () => import('./pages/connections.js'),
  browse: () => import('./pages/browse.js'),
  definitions: () => import('./pages/definitions.js'),
  security: () => import('./pages/security.js'),
};

const main = document.getElementById('main');
const who = document.getElementById('who');
const rates = new Rates(() => api('/metrics'));
let timer;
let shown = 0;

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { page: path in PAGES ? path : 'overview', params: new URLSearchParams(query ?? '') };
}

/** Renders the page the hash names; live pages render again every POLL_MS while they stay shown. */
async function show() {
  clearTimeout(timer);
  const generation = ++shown;
  if (!session.signedIn) return showSignIn();
  const { page, params } = route();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  who.replaceChildren(session.user ?? '', ' ', h('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out'));
  let view;
  try {
    view = await PAGES[page]();
    const node = await view.render({ params, rates, refresh: show });
    if (generation !== shown) return;
    main.replaceChildren(node);
    document.title = `${view.title} · Wharf`;
  } catch (err) {
    if (generation !== shown) return;
    if (err instanceof Unauthorized) return signOut();
    main.replaceChildren(errorBox(err.message));
  }
  if (view?.live !== false) timer = setTimeout(() => generation === shown && show(), POLL_MS);
}

function showSignIn(message) {
  who.replaceChildren();
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (event) => {
        event.preventDefault();
        status.textContent = '';
        try {
          await session.signIn(user.value, password.value);
          show();
        } catch (err) {
          status.textContent = err instanceof Unauthorized ? 'Login failed: wrong user name or password, or the user lacks a management tag.' : err.message;
        }
      },
    },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'A broker user with a management tag (the AMQP users, e.g. guest from this machine).'),
    h('label', null, 'User', user),
    h('label', null, 'Password', password),
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  main.replaceChildren(form);
  user.focus();
}

function signOut() {
  session.signOut();
  show();
}

addEventListener('hashchange', show);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') show();
  else clearTimeout(timer);
});

// Signed in earlier in this tab: the page's data and the endpoint index load together.
if (session.signedIn) session.resume().catch(() => undefined);
show();
