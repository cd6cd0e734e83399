// Every Dexie table is either replicated (cleared by a reset and by a person switch) or named in
// DEVICE_TABLES with the reason it survives a person switch: a new table cannot be forgotten.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./bundle.mjs";

const { WuyeDB, REPLICATED, DEVICE_TABLES } = await load("db.ts");

test("every Dexie table is in REPLICATED or explicitly exempt in DEVICE_TABLES", () => {
  const tables = new WuyeDB("schema-only").tables.map((t) => t.name).sort();
  const listed = [...REPLICATED, ...Object.keys(DEVICE_TABLES)].sort();
  assert.deepEqual(tables, listed);
});

test("no table is both replicated and exempt", () => {
  for (const name of REPLICATED) assert.ok(!(name in DEVICE_TABLES), name);
});
