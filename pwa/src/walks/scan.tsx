// Check in at a checkpoint: live camera, a photo of the label ("拍照识别"), or the pick list when the
// label is damaged (recorded as a manual visit). Also the /c/{code} landing route.
import { useEffect, useRef, useState } from "preact/hooks";
import { go, guard, say, staff } from "../app";
import { t } from "../i18n";
import { useSignal } from "../state";
import { useLive } from "../ui/live";
import { fill } from "./i18n";
import { Back } from "./parts";
import { codeFromText, decodeFile, liveCameraAvailable, scanLive } from "./qr";
import { activeWalk, checkpointByCode, gridCheckpoints, startWalk, walk, walkVisits } from "./store";

/** Text read from a label → the checkpoint's checklist in this walk, or a message saying why not. */
async function openScanned(walkId: string, gridId: string, text: string): Promise<void> {
  const code = codeFromText(text);
  if (!code) return say(t("not_a_label"));
  const cp = await checkpointByCode(code);
  if (!cp) return say(fill(t("unknown_code"), { code }));
  if (cp.grid_id !== gridId) return say(t("checkpoint_not_on_walk"));
  go(`#/walks/${walkId}/visit/${cp.id}/scan`);
}

export function Scan({ walkId }: { walkId: string }) {
  const data = useLive(async () => {
    const w = await walk(walkId);
    if (!w) return null;
    const [cps, visits] = await Promise.all([gridCheckpoints(w.grid_id), walkVisits(walkId)]);
    return { w, cps, visited: new Set(visits.map((v) => v.checkpoint_id)) };
  }, [walkId]);
  const video = useRef<HTMLVideoElement>(null);
  const [live, setLive] = useState(false);
  const [busy, setBusy] = useState(false);
  const [manual, setManual] = useState(false);
  const stopRef = useRef<(() => void) | null>(null);
  useEffect(() => () => stopRef.current?.(), []);
  if (data === undefined) return null;
  if (data === null) return <section><Back href="#/walks" /><p class="empty">—</p></section>;
  const { w, cps, visited } = data;

  async function startLive() {
    await guard(async () => {
      setLive(true);
      await new Promise((r) => setTimeout(r)); // let the <video> render
      stopRef.current = await scanLive(video.current!, (text) => {
        setLive(false);
        void openScanned(w.id, w.grid_id, text);
      });
    });
  }
  function stopLive() {
    stopRef.current?.();
    stopRef.current = null;
    setLive(false);
  }
  async function onPicture(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    setBusy(true);
    const text = await guard(() => decodeFile(file));
    setBusy(false);
    if (text) await openScanned(w.id, w.grid_id, text);
    else if (text === null) say(t("no_qr"));
  }

  return (
    <section class="scan">
      <Back href={`#/walks/${w.id}`} />
      <h2>{t("scan_title")}</h2>
      <div class={`viewfinder ${live ? "on" : ""}`}>
        {live ? <video ref={video} muted playsInline /> : <div class="frame"><span /></div>}
      </div>
      <div class="actions">
        {liveCameraAvailable() && (
          live ? <button onClick={stopLive}>{t("camera_stop")}</button>
            : <button data-action="live" onClick={startLive}>{t("camera_live")}</button>
        )}
        <label class={`button primary ${busy ? "disabled" : ""}`}>
          {busy ? t("decoding") : t("photo_decode")}
          <input type="file" name="qr-photo" accept="image/*" capture="environment" onChange={onPicture} hidden />
        </label>
      </div>
      <button class="link" data-action="manual" onClick={() => setManual(!manual)}>{t("pick_manual")}</button>
      {manual && (
        <ul class="list picks">
          {cps.map((c) => (
            <li key={c.id}>
              <button class="pick" data-pick={c.code} onClick={() => go(`#/walks/${w.id}/visit/${c.id}/manual`)}>
                <strong>{c.name}</strong>
                <span class="small">{c.location} · {c.code}{visited.has(c.id) ? ` · ${t("visited")}` : ""}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** ``/c/{code}`` on the server redirects here (a label scanned with the phone's own camera app). */
export function CheckpointLanding({ code }: { code: string }) {
  const me = useSignal(staff)! as any;
  const data = useLive(async () => ({ cp: await checkpointByCode(code), active: await activeWalk(me) }), [code]);
  useEffect(() => {
    if (data?.cp && data.active && data.active.grid_id === data.cp.grid_id) {
      go(`#/walks/${data.active.id}/visit/${data.cp.id}/scan`);
    }
  }, [data]);
  if (!data) return null;
  const { cp, active } = data;
  if (!cp) return <section><Back href="#/walks" /><p class="empty">{fill(t("unknown_code"), { code })}</p></section>;
  return (
    <section>
      <Back href="#/walks" />
      <div class="card">
        <h2>{cp.name}</h2>
        <p class="small">{cp.location} · {cp.code}</p>
        {active && active.grid_id !== cp.grid_id && <p class="error">{t("checkpoint_not_on_walk")}</p>}
        {!active && (
          <button class="primary big" data-action="start-and-visit" onClick={() => guard(async () => {
            const id = await startWalk(me, cp.grid_id);
            go(`#/walks/${id}/visit/${cp.id}/scan`);
          })}>{t("start_and_open")}</button>
        )}
      </div>
    </section>
  );
}
