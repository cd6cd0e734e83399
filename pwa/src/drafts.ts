// The desk's unsaved call (household and half-typed order) kept across screens until it is saved or
// discarded. Per person: the key carries the staff id, so whoever signs in next on this browser never
// sees it, and signing out (person.ts) drops every draft. sessionStorage, not IndexedDB: a draft is
// one tab's work in progress and may hold an owner's phone number; it dies with the tab.
const PREFIX = "wuye.calldraft.";

export function loadDraft<T>(staffId: string): T | null {
  try {
    const raw = sessionStorage.getItem(PREFIX + staffId);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null; // storage disabled or a damaged value: start a clean call
  }
}

export function saveDraft(staffId: string, draft: unknown): void {
  try {
    sessionStorage.setItem(PREFIX + staffId, JSON.stringify(draft));
  } catch {
    // storage full or disabled: the draft lives as long as the screen
  }
}

export function clearDraft(staffId: string): void {
  try {
    sessionStorage.removeItem(PREFIX + staffId);
  } catch {
    // nothing stored
  }
}

/** Sign-out: no one's draft stays behind. */
export function clearAllDrafts(): void {
  try {
    for (const key of Object.keys(sessionStorage)) if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
  } catch {
    // nothing stored
  }
}
