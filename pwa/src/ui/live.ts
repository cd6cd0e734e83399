import { useEffect, useState } from "preact/hooks";
import { useSignal } from "../state";
import { changed } from "../sync";

/** Re-run an IndexedDB query whenever local data changes (after a sync page or a local action). */
export function useLive<T>(query: () => Promise<T>, deps: unknown[] = []): T | undefined {
  const version = useSignal(changed);
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    let alive = true;
    query().then((v) => alive && setValue(v));
    return () => {
      alive = false;
    };
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
