// Samsa console: the router. Pages are addressed by the URL hash (#/topics/orders), so the broker serves
// one HTML page and the browser's back button works. Each page renders into <main> and marks it with
// data-page and data-state ("ready" or "error") once its data is shown.
import { h } from './dom.js';
import * as pages from './pages.js';

const main = document.getElementById('main');
let stop = null;

const routes = [
  [/^#?\/?$/, 'brokers', () => pages.brokers()],
  [/^#\/topics$/, 'topics', () => pages.topics()],
  [/^#\/topics\/([^/]+)$/, 'topic', (m) => pages.topic(decodeURIComponent(m[1]))],
  [/^#\/topics\/([^/]+)\/(\d+)\/messages(?:\?(.*))?$/, 'messages', (m) => pages.messages(decodeURIComponent(m[1]), Number(m[2]), new URLSearchParams(m[3] ?? ''))],
  [/^#\/topics\/([^/]+)\/(\d+)\/files(?:\/([^/?]+))?(?:\?(.*))?$/, 'files', (m) => pages.files(decodeURIComponent(m[1]), Number(m[2]), m[3] ? decodeURIComponent(m[3]) : null, new URLSearchParams(m[4] ?? ''))],
  [/^#\/groups$/, 'groups', () => pages.groups()],
  [/^#\/groups\/([^/]+)$/, 'group', (m) => pages.group(decodeURIComponent(m[1]))],
  [/^#\/registry$/, 'registry', () => pages.registry()],
  [/^#\/registry\/([^/?]+)(?:\?(.*))?$/, 'subject', (m) => pages.subject(decodeURIComponent(m[1]), new URLSearchParams(m[2] ?? ''))],
  [/^#\/trace$/, 'trace', () => pages.trace()],
];

const navOf = { brokers: 'brokers', topics: 'topics', topic: 'topics', messages: 'topics', files: 'topics', groups: 'groups', group: 'groups', registry: 'registry', subject: 'registry', trace: 'trace' };

async function render() {
  if (stop) {
    stop();
    stop = null;
  }
  const hash = location.hash || '#/';
  const route = routes.map(([re, name, fn]) => [re.exec(hash), name, fn]).find(([m]) => m);
  main.dataset.state = 'loading';
  if (!route) {
    main.replaceChildren(h('p', { class: 'error' }, `No page at ${hash}`));
    main.dataset.page = 'none';
    main.dataset.state = 'error';
    return;
  }
  const [m, name, fn] = route;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === navOf[name]);
  main.dataset.page = name;
  try {
    const page = await fn(m);
    if (location.hash !== hash && !(hash === '#/' && location.hash === '')) return; // navigated away meanwhile
    main.replaceChildren(...[page.nodes].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
    stop = page.stop ?? null;
    document.title = `${page.title} · Samsa console`;
    main.dataset.state = 'ready';
  } catch (err) {
    main.replaceChildren(h('p', { class: 'error' }, String(err.message ?? err)));
    main.dataset.state = 'error';
  }
}

window.addEventListener('hashchange', render);
render();
