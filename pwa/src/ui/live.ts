import { liveQuery } from "dexie";
import { useEffect, useState } from "preact/hooks";
import { useSignal } from "../state";
import { changed } from "../sync";

/** Re-run an IndexedDB query whenever the tables it read change: Dexie's liveQuery sees every write,
 * from this screen, another part of the app or another tab, so no writer has to remember to announce
 * it. The ``changed`` signal still re-runs it after a sync page (which may change what is in scope). */
export function useLive<T>(query: () => Promise<T>, deps: unknown[] = []): T | undefined {
  const version = useSignal(changed);
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({ next: (v) => setValue(v), error: (e) => console.warn(e) });
    return () => subscription.unsubscribe();
  }, [version, ...deps]);
  return value;
}

/** A value that changes every second (for countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  return now;
}
