// The site app's service worker: keeps the app shell, the strings of every language and the
// passport schema, so the app opens and signs without a network. It never answers for /v1/
// (submissions and reads go to the node, or fail and are queued by the page) and never caches
// anything the node did not list here. The node fills in the version and the list
// (node/src/app/mod.rs): a new release gets a new cache and the old one is deleted.

const VERSION = "__SHELL_VERSION__";
const CACHE = `salvage-app-${VERSION}`;
const FILES = ["__SHELL_FILES__"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES.map((file) => new Request(file, { cache: "no-cache" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("salvage-app-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin || !url.pathname.startsWith("/app/")) return;
  if (url.pathname === "/app/sw.js" || url.pathname === "/app/key.svg") return;
  // Navigations inside the app (any #/screen) are the page itself.
  const key = request.mode === "navigate" ? "./" : url.pathname.replace(/^\/app\//, "./");
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const kept = await cache.match(key);
      if (kept) {
        // Answer from the cache at once; the shell only changes with a release, which
        // installs a new worker and cache.
        return kept;
      }
      return fetch(request);
    }),
  );
});
