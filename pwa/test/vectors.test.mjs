// The shared vectors of sync/vectors/ against the PWA's sync rules (pwa/src/syncrules.ts, which
// pwa/src/sync.ts uses for every push, pull and upload). The Python engine tests replay the same
// files on the server side (tests/sync_engine/test_vectors.py), so the two cannot drift.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { load } from "./bundle.mjs";

const rules = await load("syncrules.ts");
const { REPLICATED } = await load("db.ts");
const vectors = (name) => JSON.parse(readFileSync(new URL(`../../sync/vectors/${name}.json`, import.meta.url), "utf8")).cases;

for (const c of [...vectors("push"), ...vectors("pull")]) {
  test(`${c.rule}: ${c.name}`, () => {
    c.steps.forEach((step, i) => {
      const where = `step ${i}`;
      if (step.push) {
        // What the PWA sends is what the vector sends (author included).
        const body = step.push.body;
        const entries = body.mutations.map(({ seq, id, name, args, client_time, author }) => ({ seq, id, name, args, client_time, author }));
        if (body.mutations.every((m) => Object.keys(m).every((k) => ["seq", "id", "name", "args", "client_time", "author"].includes(k)))) {
          const sent = rules.pushBody(body.client_id, body.client_time, entries);
          assert.deepEqual(JSON.parse(JSON.stringify(sent)), body, where);
        }
      }
      if (!step.device) return;
      const answer = step.answer;
      if (answer.status !== 200) {
        const action = rules.errorAction(answer.status, answer.body, "r1", "r1");
        assert.deepEqual(action, step.device, where);
        return;
      }
      if (step.push) {
        const plan = rules.settlePlan(step.push.body.mutations, answer.body.results);
        assert.deepEqual(plan.remove, step.device.remove, where);
        assert.deepEqual(plan.rejected.map((r) => r.code), step.device.rejected, where);
      } else {
        const page = { reset: false, cursor: "", changes: [], ...answer.body };
        const plan = rules.pagePlan(page, REPLICATED);
        assert.equal(plan.clear, step.device.clear, where);
        if (step.device.put) assert.deepEqual(plan.put.map((p) => [p.table, page.changes.find((c) => c.data === p.data).id]), step.device.put, where);
        if (step.device.drop) assert.deepEqual(plan.drop.map((d) => [d.table, d.id]), step.device.drop, where);
        if (step.device.dropChildren) assert.deepEqual(plan.dropChildren.map((d) => [d.table, d.id]), step.device.dropChildren, where);
        if (step.device.cursor) assert.equal(plan.cursor, step.device.cursor, where);
      }
    });
  });
}

for (const c of vectors("transport")) {
  test(`${c.rule}: ${c.name}`, () => {
    if (c.envelope) assert.equal(rules.isEnvelope(c.envelope.body, c.envelope.request_id), c.device.envelope);
    if (c.error) assert.deepEqual(rules.errorAction(c.error.status, c.error.body, c.error.echo, c.error.request_id, c.error.retry_after), c.device);
    if (c.header !== undefined) assert.equal(c.header === String(rules.PROTOCOL), c.answer.status === 200); // the PWA sends "1"
    if (c.device?.do && c.answer && !c.error) assert.deepEqual(rules.errorAction(c.answer.status, c.answer.body, "r1", "r1"), c.device);
  });
}

const blobs = JSON.parse(readFileSync(new URL("../../sync/vectors/blobs.json", import.meta.url), "utf8"));
for (const c of blobs.cases) {
  test(`${c.rule}: ${c.name}`, async () => {
    const bytes = Buffer.from(blobs.blobs[c.blob], "base64");
    const sha = c.blob_name ?? (await import("node:crypto")).createHash("sha256").update(bytes).digest("hex");
    c.steps.forEach((step, i) => {
      if (!step.device) return;
      if (step.answer.status === 200) assert.equal(rules.blobDone(step.answer.body, sha), step.device.done, `step ${i}`);
      else assert.deepEqual(rules.errorAction(step.answer.status, step.answer.body, "r1", "r1"), step.device, `step ${i}`);
    });
  });
}
