// Walk-abouts (巡查): routes under #/walks, registered with the app's screen and nav registries.
//   #/walks                          start a walk / recent walks (leads: coverage)
//   #/walks/{walk}                   the walk: checkpoints, findings, end
//   #/walks/{walk}/scan              check in: live camera, photo of the label, manual pick list
//   #/walks/{walk}/visit/{cp}/{how}  the checkpoint's checklist (how = scan | manual)
//   #/walks/{walk}/finding           a finding on this walk
//   #/walks/findings/new/{grid}      a finding outside a walk
//   #/walks/findings/{id}            a finding and its work order
//   #/walks/checkpoint/{code}        where the server's /c/{code} (a label's QR) redirects
//   #/walks/coverage, #/walks/log/{steward}/{day}   team leads
import { registerNav, registerScreen } from "../screens";
import "./i18n";
import "./walks.css";
import { Coverage, DailyLog } from "./coverage";
import { FindingDetail, NewFinding } from "./finding";
import { CheckpointLanding, Scan } from "./scan";
import { Visit } from "./visit";
import { WalkDetail, WalksHome } from "./walk";

registerNav({ href: "#/walks", label: "walks", roles: ["steward", "team_lead", "supervisor", "admin"], position: 10 });

registerScreen("walks", ([, a, b, c, d]) => {
  if (!a) return <WalksHome />;
  if (a === "coverage") return <Coverage />;
  if (a === "log" && b) return <DailyLog stewardId={b} day={c ?? ""} />;
  if (a === "checkpoint" && b) return <CheckpointLanding code={decodeURIComponent(b)} />;
  if (a === "findings" && b === "new" && c) return <NewFinding walkId={null} gridId={c} />;
  if (a === "findings" && b) return <FindingDetail findingId={b} />;
  if (b === "scan") return <Scan walkId={a} />;
  if (b === "visit" && c) return <Visit walkId={a} checkpointId={c} method={d === "manual" ? "manual" : "scan"} />;
  if (b === "finding") return <NewFinding walkId={a} />;
  return <WalkDetail walkId={a} />;
});
