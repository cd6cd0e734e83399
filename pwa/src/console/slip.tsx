// The owner's slip (打印凭条) and the QR progress link (发送进度链接) for one order.
import { useState } from "preact/hooks";
import { say } from "../app";
import { t } from "../i18n";
import { fetchAuthed, send } from "./net";
import { ErrorLine } from "./widgets";

export function SlipPanel({ orderId }: { orderId: string }) {
  const [html, setHtml] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function showSlip() {
    setError(null);
    try {
      await send("PUT", `/api/orders/${orderId}/progress-link`);
      const res = await fetchAuthed(`/api/orders/${orderId}/slip`);
      setHtml(await res.text());
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function makeLink() {
    setError(null);
    try {
      const out = await send<{ url: string }>("PUT", `/api/orders/${orderId}/progress-link`);
      setLink(out.url);
      const svg = await (await fetchAuthed(`/api/orders/${orderId}/progress-link/qr.svg`)).blob();
      setQr(URL.createObjectURL(svg));
      try {
        await navigator.clipboard.writeText(out.url);
        say(t("c_link_copied"));
      } catch {
        // clipboard not granted: the link is shown to copy by hand
      }
    } catch (e) {
      setError((e as Error).message);
    }
  }

  function print() {
    const frame = document.querySelector<HTMLIFrameElement>("iframe.slip-frame");
    frame?.contentWindow?.print();
  }

  return (
    <div class="slip-panel">
      <div class="row">
        <button type="button" data-action="slip" onClick={showSlip}>{t("c_slip")}</button>
        <button type="button" data-action="progress-link" onClick={makeLink}>{t("c_send_link")}</button>
      </div>
      <ErrorLine error={error} />
      {link && (
        <div class="link-box">
          {qr && <img src={qr} alt="QR" width={120} height={120} />}
          <div class="grow">
            <p class="small">{t("c_link_hint")}</p>
            <input readOnly value={link} data-test="progress-link" onFocus={(e) => (e.target as HTMLInputElement).select()} />
          </div>
        </div>
      )}
      {html && (
        <div class="slip-preview">
          <iframe class="slip-frame" srcDoc={html} title={t("c_slip")} />
          <div class="row">
            <button type="button" class="primary" onClick={print}>{t("c_print")}</button>
            <button type="button" onClick={() => setHtml(null)}>{t("c_close")}</button>
          </div>
        </div>
      )}
    </div>
  );
}
