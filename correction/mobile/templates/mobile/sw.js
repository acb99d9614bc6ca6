/* The app's service worker (scope /app/): keeps the shell for offline use; never touches the API.
 * Rendered by the service with the current file list; a change of any file changes VERSION,
 * so the browser installs the new worker and the old cache goes. */
const VERSION = {{ version|tojson }};
const CACHE = `correction-app-${VERSION}`;
const SHELL = {{ shell|tojson }};
const ASSETS = {{ assets|tojson }};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([SHELL, ...ASSETS])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key.startsWith('correction-app-') && key !== CACHE)
      .map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // the API, other sites and anything but reading the app's files go to the network as they are
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(SHELL)) return;
  if (event.request.mode === 'navigate' || url.pathname === SHELL) {
    // the shell: the network's when it answers (and kept), else the kept one
    event.respondWith(fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(SHELL, copy)));
        }
        return response;
      })
      .catch(() => caches.match(SHELL)));
    return;
  }
  event.respondWith(caches.match(event.request, { ignoreSearch: true })
    .then((kept) => kept || fetch(event.request)));
});
