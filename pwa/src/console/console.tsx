// The office console (front desk, team leads, supervisors, admins): a desktop layout (≥ 1024 px) with
// a side navigation, loaded as its own chunk by entry.tsx. Online-only: every screen reads the server.
import { useEffect } from "preact/hooks";
import { staff } from "../app";
import { lang, setLang, t } from "../i18n";
import { useSignal } from "../state";
import "./console.css";
import "./i18n";
import { Admin } from "./admin";
import { Duty } from "./duty";
import { Answers } from "./answers";
import { Board } from "./board";
import { Callbacks } from "./callbacks";
import { TakeCall } from "./call";
import { Dashboard, Scorecard } from "./dashboard";
import { Report } from "./report";
import { OrderPage } from "./order";
import { WalkRoutes } from "./walkroutes";
import { Posters } from "./posters";
import { Bulletins } from "./bulletin";
import { NotifyLog, NotifyPolicy } from "./notify";
import { Notifications } from "../ui/notifications";
import { tabCounts, TabCount } from "../ui/arrivals";
import { useLive } from "../ui/live";
import { Coverage, DailyLog } from "../walks/coverage";

const MANAGERS = ["supervisor", "admin"];
const REVIEWERS = ["supervisor", "team_lead", "admin"];
const DESK = ["front_desk", "team_lead", "supervisor", "admin"];

const NAV: { href: string; key: string; roles: string[] }[] = [
  { href: "#/desk", key: "c_take_call", roles: DESK },
  { href: "#/desk/board", key: "c_board", roles: DESK },
  { href: "#/desk/callbacks", key: "c_callbacks", roles: DESK },
  { href: "#/desk/answers", key: "c_answers", roles: DESK },
  { href: "#/desk/dashboard", key: "c_dashboard", roles: DESK },
  { href: "#/desk/report", key: "c_report", roles: REVIEWERS },
  { href: "#/desk/walks", key: "c_walk_routes", roles: REVIEWERS },
  { href: "#/desk/coverage", key: "c_coverage", roles: REVIEWERS },
  { href: "#/desk/duty", key: "c_duty", roles: REVIEWERS },
  { href: "#/desk/posters", key: "c_posters", roles: DESK },
  { href: "#/desk/bulletin", key: "c_bulletin", roles: DESK },
  { href: "#/desk/notifications", key: "notifications", roles: DESK },
  { href: "#/desk/deliveries", key: "c_notify_log", roles: DESK },
  { href: "#/desk/notify-policy", key: "c_notify_policy", roles: MANAGERS },
  { href: "#/desk/admin", key: "c_admin", roles: MANAGERS },
];

export function Console({ parts }: { parts: string[] }) {
  const me = useSignal(staff);
  useSignal(lang);
  const counts = useLive(() => tabCounts(me), [me?.id]);
  useEffect(() => {
    document.body.classList.add("console-mode");
    return () => document.body.classList.remove("console-mode");
  }, []);
  if (!me || !DESK.includes(me.role)) return <p class="empty">{t("c_not_for_role")}</p>;
  const sub = parts[1] ?? "";
  const active = sub ? `#/desk/${sub}` : "#/desk";
  let screen;
  if (sub === "board") screen = <Board />;
  else if (sub === "callbacks") screen = <Callbacks />;
  else if (sub === "orders" && parts[2]) screen = <OrderPage key={parts[2]} id={parts[2]} />;
  else if (sub === "answers") screen = <Answers canEdit={MANAGERS.includes(me.role)} />;
  else if (sub === "dashboard") screen = <Dashboard canReview={REVIEWERS.includes(me.role)} />;
  else if (sub === "report" && REVIEWERS.includes(me.role)) screen = <Report canSetBaseline={MANAGERS.includes(me.role)} />;
  else if (sub === "scorecard" && parts[2]) screen = <Scorecard stewardId={parts[2]} month={parts[3]} />;
  else if (sub === "walks" && REVIEWERS.includes(me.role)) screen = <WalkRoutes />;
  else if (sub === "admin" && MANAGERS.includes(me.role)) screen = <Admin />;
  else if (sub === "duty" && REVIEWERS.includes(me.role)) screen = <Duty />;
  else if (sub === "coverage" && REVIEWERS.includes(me.role)) {
    screen = parts[2] ? <DailyLog stewardId={parts[2]} day={parts[3] ?? ""} back="#/desk/coverage" />
      : <Coverage back={null} logBase="#/desk/coverage" />;
  } else if (sub === "posters") screen = <Posters />;
  else if (sub === "bulletin") screen = <Bulletins />;
  else if (sub === "notifications") screen = <Notifications orderHref="#/desk/orders/" />;
  else if (sub === "deliveries") screen = <NotifyLog />;
  else if (sub === "notify-policy" && MANAGERS.includes(me.role)) screen = <NotifyPolicy />;
  else screen = <TakeCall />;
  return (
    <div class="console">
      <aside class="side">
        <div class="who">
          <strong>{me.name}</strong>
          <span class="small">{t(`role_${me.role}`)}</span>
        </div>
        <nav>
          {NAV.filter((n) => n.roles.includes(me.role)).map((n) => (
            <a key={n.href} href={n.href} class={active === n.href || (n.href === "#/desk/board" && sub === "orders") ? "active" : ""}>
              {t(n.key)}
              {n.key === "notifications" && <TabCount n={counts?.notifications ?? 0} test="console-notifications-count" />}
            </a>
          ))}
          <a href="#/settings">{t("settings")}</a>
        </nav>
        <div class="lang">
          <button class={`link ${lang.get() === "zh-CN" ? "on" : ""}`} onClick={() => setLang("zh-CN")}>中文</button>
          <span>·</span>
          <button class={`link ${lang.get() === "en" ? "on" : ""}`} onClick={() => setLang("en")} data-action="lang-en">English</button>
        </div>
      </aside>
      <section class="pane">{screen}</section>
    </div>
  );
}
