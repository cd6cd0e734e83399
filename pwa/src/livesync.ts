// The device stream (sync/PROTOCOL.md §7a): while the app is open, the server says "something changed
// for you" over Server-Sent Events and the app pulls at once, with no push service involved (Web Push
// does not reach most phones in mainland China). EventSource cannot send the Authorization header:
// each connection uses a 60-second ticket from POST /sync/ticket. The browser's own reconnect would
// reuse an expired ticket, so on any error the stream is closed and opened again here, with a fresh
// ticket, the last event id and a growing delay. While it is down the 30-second poll carries on.
import { ApiError, call } from "./api";
import { signal } from "./state";
import { setStreamLive, syncAgain } from "./sync";

export const streamLive = signal(false);

const WATCHDOG_MS = 45_000; // the server pings every 15 s: silence this long means a dead connection
let source: EventSource | null = null;
let running = false;
let failures = 0;
let lastId: string | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let watchdog: ReturnType<typeof setTimeout> | undefined;

/** This tab's stream name: a reload replaces its own stream, other tabs keep theirs. */
function tabId(): string {
  let id = sessionStorage.getItem("wuye-tab");
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem("wuye-tab", id);
  }
  return id;
}

let listening = false;

export function startLiveStream(): void {
  if (running || typeof EventSource === "undefined") return;
  running = true;
  if (!listening) {
    listening = true;
    // Back on the network or on screen: try now instead of waiting out the backoff.
    const now = () => {
      if (running && !source) {
        failures = 0;
        clearTimeout(retryTimer);
        void open();
      }
    };
    window.addEventListener("online", now);
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && now());
  }
  void open();
}

export function stopLiveStream(): void {
  running = false;
  lastId = null;
  clearTimeout(retryTimer);
  close();
}

function close(): void {
  clearTimeout(watchdog);
  source?.close();
  source = null;
  if (streamLive.get()) streamLive.set(false);
  setStreamLive(false);
}

function alive(): void {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => retry(), WATCHDOG_MS);
}

function retry(): void {
  close();
  if (!running) return;
  failures += 1;
  const delay = Math.min(60_000, 1_000 * 2 ** Math.min(failures - 1, 6)) * (0.5 + Math.random() / 2);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => void open(), delay);
}

async function open(): Promise<void> {
  if (!running) return;
  let ticket: string;
  try {
    ticket = (await call("POST", "/sync/ticket")).json.ticket;
  } catch (err) {
    if ((err as ApiError).status === 401) return stopLiveStream(); // signed out: the sync screen says so
    return retry();
  }
  if (!running) return;
  const q = new URLSearchParams({ ticket, client_id: tabId() });
  const resumed = lastId;
  if (resumed) q.set("last_event_id", resumed);
  const es = new EventSource(`/sync/events?${q}`);
  source = es;
  alive();
  es.addEventListener("ping", alive);
  es.onmessage = (e) => {
    alive();
    if (e.lastEventId) lastId = e.lastEventId;
    let msg: any;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (msg.type === "hello") {
      failures = 0;
      streamLive.set(true);
      setStreamLive(true);
      if (!resumed) syncAgain(); // without an id the server cannot tell what was missed: pull once
    } else if (msg.type === "changed") {
      syncAgain();
    } else if (msg.type === "bye") {
      // renew: the server's time limit, reconnect now; replaced: this tab's slot went to a newer
      // stream; signed_out: this session ended. The poll stays in the last two cases.
      if (msg.reason === "renew") {
        close();
        void open();
      } else {
        stopLiveStream();
      }
    }
  };
  es.onerror = () => {
    if (source === es) retry();
  };
}
