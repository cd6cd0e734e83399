// The console is online-only: plain authorised calls (no outbox), downloads, and the board's event stream.
import { call, token } from "../api";
import { useEffect, useRef, useState } from "preact/hooks";

export async function get<T = any>(path: string): Promise<T> {
  return (await call("GET", path)).json as T;
}

export async function send<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await call(method, path, body ?? {})).json as T;
}

/** A non-JSON answer (CSV, printable HTML) fetched with the staff token. */
export async function fetchAuthed(path: string, init: RequestInit = {}): Promise<Response> {
  const tok = await token();
  const headers = new Headers(init.headers);
  if (tok) headers.set("Authorization", `Bearer ${tok}`);
  const res = await fetch(path, { ...init, headers, cache: "no-store" });
  if (!res.ok) {
    let message = res.statusText;
    try {
      message = (await res.json()).message ?? message;
    } catch {
      // not JSON
    }
    throw new Error(message);
  }
  return res;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Load ``path`` (re-run when it changes); ``reload()`` fetches again. What was loaded for another
 * path is never returned: a screen whose path changed shows "loading", not the previous record. */
export function useApi<T = any>(path: string | null): { data: T | undefined; error: string | null; reload: () => void } {
  const [got, setGot] = useState<{ path: string; data?: T; error: string | null } | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    let alive = true;
    get<T>(path).then(
      (v) => alive && setGot({ path, data: v, error: null }),
      (e) => alive && setGot((g) => ({ path, data: g?.path === path ? g.data : undefined, error: String(e.message ?? e) })),
    );
    return () => {
      alive = false;
    };
  }, [path, n]);
  const mine = got && got.path === path ? got : null;
  return { data: mine?.data, error: mine?.error ?? null, reload: () => setN((x) => x + 1) };
}

/** The board's Server-Sent Events (``POST /api/board/ticket`` then ``EventSource``); reconnects with a
 * fresh ticket when the stream closes. ``onEvent`` gets every parsed message. */
export function useBoardStream(onEvent: (msg: any) => void): boolean {
  const [live, setLive] = useState(false);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    async function open() {
      try {
        const { ticket } = await send<{ ticket: string }>("POST", "/api/board/ticket");
        if (stopped) return;
        source = new EventSource(`/api/board/events?ticket=${encodeURIComponent(ticket)}`);
        source.onmessage = (e) => {
          let msg: any;
          try {
            msg = JSON.parse(e.data);
          } catch {
            return;
          }
          if (msg.type === "hello") setLive(true);
          handler.current(msg);
        };
        source.onerror = () => {
          setLive(false);
          if (source?.readyState === EventSource.CLOSED) retry();
        };
      } catch {
        retry();
      }
    }
    function retry() {
      source?.close();
      if (!stopped) timer = setTimeout(open, 3000);
    }
    void open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, []);
  return live;
}
