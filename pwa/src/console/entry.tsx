// The console's foot in the phone shell (kept tiny): the route, a nav entry, the start screen for
// desk roles, and a lazy import() of the console chunk (console.js + console.css), which the phone
// shell never loads for technicians and stewards.
import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { route, staff } from "../app";
import { extend, t } from "../i18n";
import { registerNav, registerScreen } from "../screens";

export const DESK_ROLES = ["front_desk", "team_lead", "supervisor", "admin"];

extend({
  zh: { console_home: "工作台", console_loading: "正在加载工作台…", console_failed: "工作台加载失败，请检查网络后刷新" },
  en: { console_home: "Console", console_loading: "Loading the console…", console_failed: "The console did not load: check the network and reload" },
});

type Module = { Console: FunctionComponent<{ parts: string[] }> };
let loaded: Module | null = null;
let loading: Promise<Module> | null = null;

/** console.css is its own file (esbuild does not inject a lazily loaded chunk's CSS): wait for it so
 * the console never shows unstyled. */
function stylesheet(): Promise<void> {
  return new Promise((resolve) => {
    if (document.querySelector("link[data-console]")) return resolve();
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/app/console.css";
    link.dataset.console = "";
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  });
}

function load(): Promise<Module> {
  loading ??= Promise.all([import("./console"), stylesheet()]).then(([m]) => (loaded = m));
  return loading;
}

function LazyConsole({ parts }: { parts: string[] }) {
  const [, setReady] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!loaded) load().then(() => setReady(true), () => { loading = null; setFailed(true); });
  }, []);
  if (failed) return <p class="error">{t("console_failed")}</p>;
  if (!loaded) return <p class="boot">{t("console_loading")}</p>;
  const C = loaded.Console;
  return <C parts={parts} />;
}

registerScreen("desk", (parts) => <LazyConsole parts={parts} />);
registerNav({ href: "#/desk", label: "console_home", roles: DESK_ROLES, position: 5 });

/** Desk roles start on the console: the shell's default (#/tasks, e.g. right after login) moves there. */
function toStart(): void {
  const me = staff.get();
  const hash = route.get();
  if (me && DESK_ROLES.includes(me.role) && (hash === "" || hash === "#/" || hash === "#/tasks")) {
    history.replaceState(null, "", "#/desk");
    route.set("#/desk");
  }
}
staff.subscribe(toStart);
route.subscribe(toStart);
