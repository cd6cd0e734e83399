/// <reference lib="webworker" />
// The service worker: precache the shell (versioned by content), serve navigations under /app/ from
// the cached index.html so a cold start works offline, never touch API calls or writes, show pushes.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

declare const self: ServiceWorkerGlobalScope;
declare const __SHELL_VERSION__: string;

precacheAndRoute(self.__WB_MANIFEST, { ignoreURLParametersMatching: [/.*/] });
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL("/app/index.html"), { allowlist: [/^\/app(\/|$)/] }));

/** The page asks a waiting worker to take over once the user tapped "更新". */
self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") self.skipWaiting();
  if (event.data?.type === "VERSION") event.ports[0]?.postMessage(__SHELL_VERSION__);
});

/** A push is a "sync now" ping with a short lock-screen text; the data itself arrives by pull. */
self.addEventListener("push", (event) => {
  let msg: { title?: string; body?: string; url?: string; id?: string } = {};
  try {
    msg = event.data?.json() ?? {};
  } catch {
    msg = { title: event.data?.text() ?? "物业外勤" };
  }
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(msg.title || "物业外勤", {
        body: msg.body || "",
        tag: msg.id,
        icon: "/app/icons/icon-192.png",
        data: { url: msg.url || "/app/" },
      }),
      tellClients({ type: "SYNC_NOW" }),
    ]),
  );
});

/** Tapping a notification opens (or focuses) the app on that order. */
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data?.url as string) || "/app/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
      const open = list.find((c) => c.url.includes("/app/"));
      if (open) return open.focus().then((c) => c.navigate(url));
      return self.clients.openWindow(url);
    }),
  );
});

/** Background Sync: wake an open page to flush its outbox (the outbox logic lives in the page). */
self.addEventListener("sync", (event: any) => {
  if (event.tag === "wuye-outbox") event.waitUntil(tellClients({ type: "SYNC_NOW" }));
});

async function tellClients(message: object): Promise<void> {
  const list = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  list.forEach((c) => c.postMessage(message));
}
