import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { route, type Staff, staff, toast } from "./app";
import { db, getMeta } from "./db";
import { lang, t } from "./i18n";
import { useSignal } from "./state";
import { startLiveStream } from "./livesync";
import { startSyncLoop } from "./sync";
import { ArrivalToast } from "./ui/arrivals";
import { Login } from "./ui/login";
import "./ui/strings";
import { Notifications } from "./ui/notifications";
import { OrderDetail } from "./ui/order";
import { Settings } from "./ui/settings";
import { AddStep } from "./ui/step";
import { SyncStatus } from "./ui/syncstatus";
import { Tasks } from "./ui/tasks";
import { Badge, Nav, UpdateBanner } from "./ui/widgets";
import { featureScreen } from "./screens";
import "./console/entry";
import "./walks";

function Screen() {
  const hash = useSignal(route);
  const parts = hash.replace(/^#\//, "").split("/");
  const feature = featureScreen(parts);
  if (feature) return feature;
  if (parts[0] === "orders" && parts[1] && parts[2] === "step") return <AddStep key={parts[1]} orderId={parts[1]} />;
  if (parts[0] === "orders" && parts[1]) return <OrderDetail key={parts[1]} orderId={parts[1]} />;
  if (parts[0] === "sync") return <SyncStatus />;
  if (parts[0] === "notifications") return <Notifications />;
  if (parts[0] === "settings") return <Settings />;
  return <Tasks />;
}

function App() {
  const me = useSignal(staff);
  const message = useSignal(toast);
  useSignal(lang);
  const [ready, setReady] = useState(false);
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    getMeta<Staff | null>("staff", null).then((s) => {
      staff.set(s);
      setReady(true);
      if (s) {
        startSyncLoop();
        startLiveStream();
      }
    });
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  if (!ready) return <p class="boot">{t("app")}</p>;
  if (!me) return <Login />;
  return (
    <div class="shell">
      <header class="top">
        <span class="title">{t("app")}</span>
        <span class={`net ${online ? "on" : "off"}`}>{online ? t("online") : t("offline")}</span>
        <Badge />
      </header>
      <UpdateBanner />
      <main>
        <Screen />
      </main>
      {message && <div class="toast" role="status">{message}</div>}
      <ArrivalToast />
      <Nav />
    </div>
  );
}

async function boot(): Promise<void> {
  document.documentElement.lang = lang.get();
  await db.open();
  render(<App />, document.getElementById("app")!);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => undefined);
  }
}

void boot();
