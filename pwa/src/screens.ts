// Screens of feature folders (walks, console), registered by route prefix so that each feature
// lives in its own folder and main.tsx stays a short router. A feature module calls
// ``registerScreen("walks", (parts) => <Walks parts={parts} />)`` when imported from main.tsx.
import type { VNode } from "preact";

type Render = (parts: string[]) => VNode | null;
const screens = new Map<string, Render>();

export function registerScreen(prefix: string, render: Render): void {
  screens.set(prefix, render);
}

export function featureScreen(parts: string[]): VNode | null {
  const render = screens.get(parts[0]);
  return render ? render(parts) : null;
}

export interface NavItem { href: string; label: string; roles: string[] | null; position: number }
const navItems: NavItem[] = [];

/** A bottom-nav entry; ``roles`` null shows it to everyone. ``label`` is an i18n key. */
export function registerNav(item: NavItem): void {
  navItems.push(item);
  navItems.sort((a, b) => a.position - b.position);
}

export function featureNav(role: string | undefined): NavItem[] {
  return navItems.filter((i) => i.roles === null || (role !== undefined && i.roles.includes(role)));
}
