import assert from "node:assert/strict";
import { test } from "node:test";

import { word } from "../../client/messages.js";
import { NoteStore } from "../../client/notes.js";
import { UndoController } from "../../client/undo.js";
import { FakeTransport, note } from "./fakes.mjs";

function setup() {
  const transport = new FakeTransport();
  const store = new NoteStore(transport);
  const undo = new UndoController(store);
  const messages = [];
  store.subscribe((c) => c.type === "message" && messages.push(word(c).text));
  return { transport, store, undo, messages };
}

/** A server note that the page knows, as after a snapshot. */
function known(store, fields) {
  const n = note({ x: 10, y: 20, text: "t", seq: 1, ...fields });
  store.applySnapshot({ full: true, notes: [n] });
  return { n, entry: store.byId.get(n.id) };
}

test("undo of a create deletes it (based on our version); redo restores it, same id and fields", async () => {
  const { transport, store, undo } = setup();
  const draft = store.createDraft({ x: 5, y: 6, color: "#fde68a" });
  store.finishEdit(draft, "hello");
  const created = note({ text: "hello", x: 5, y: 6, color: "#fde68a", seq: 1 });
  await transport.ack(created);
  assert.ok(undo.undo());
  assert.deepEqual(transport.last().frame, {
    type: "delete",
    id: created.id,
    version: 1,
    client_id: transport.last().frame.client_id,
  });
  await transport.ack({ ...created, version: 2, seq: 2, deleted: true, text: "hello" });
  assert.equal(store.list().length, 0);
  assert.ok(undo.redo());
  const frame = transport.last().frame;
  assert.equal(frame.type, "update");
  assert.equal(frame.id, created.id);
  assert.equal(frame.deleted, false);
  assert.equal(frame.version, 2);
  assert.equal(frame.text, "hello");
  assert.equal(frame.x, 5);
  assert.equal(store.list()[0].view().text, "hello", "shown at once, pending");
  assert.ok(store.list()[0].view().pending);
  await transport.ack({ ...created, version: 3, seq: 3 });
  assert.equal(store.list().length, 1);
  assert.equal(store.list()[0].view().pending, false);
});

test("undo of a move, colour or resize sends the previous values with our version", async () => {
  const { transport, store, undo } = setup();
  const { n, entry } = known(store, { version: 4, w: 208, h: 150 });
  store.move(entry, 100, 200);
  await transport.ack({ ...n, x: 100, y: 200, version: 5, seq: 2 });
  store.setFields(entry, { w: 300, h: 220 });
  await transport.ack({ ...n, x: 100, y: 200, w: 300, h: 220, version: 6, seq: 3 });
  undo.undo();
  assert.deepEqual(
    { ...transport.last().frame, client_id: 0 },
    { type: "update", id: n.id, w: 208, h: 150, version: 6, client_id: 0 },
  );
  await transport.ack({ ...n, x: 100, y: 200, version: 7, seq: 4 });
  undo.undo();
  assert.equal(transport.last().frame.x, 10);
  assert.equal(transport.last().frame.version, 7);
  await transport.ack({ ...n, version: 8, seq: 5 });
  undo.redo();
  assert.equal(transport.last().frame.x, 100);
  assert.equal(transport.last().frame.version, 8);
});

test("undo waits for the ack of the change it undoes", async () => {
  const { transport, store, undo } = setup();
  const { n, entry } = known(store, {});
  store.move(entry, 50, 60);
  const sent = transport.sent.length;
  undo.undo();
  assert.equal(transport.sent.length, sent, "nothing sent before the move's ack");
  await transport.ack({ ...n, x: 50, y: 60, version: 2, seq: 2 });
  assert.equal(transport.sent.length, sent + 1);
  assert.deepEqual([transport.last().frame.x, transport.last().frame.version], [10, 2]);
});

test("undo after someone else changed the note: the server's conflict shows the conflict view", async () => {
  const { transport, store, undo, messages } = setup();
  const { n, entry } = known(store, {});
  store.finishEdit((store.beginEdit(entry), entry), "mine");
  await transport.ack({ ...n, text: "mine", version: 2, seq: 2 });
  store.applyEvent({ note: { ...n, text: "theirs", version: 3, seq: 3 } });
  undo.undo();
  assert.equal(transport.last().frame.version, 2, "based on our version, not theirs");
  await transport.fail("conflict");
  assert.notEqual(entry.conflict, null);
  assert.equal(entry.view().text, "theirs");
  assert.ok(messages.some((m) => /conflict/i.test(m)));
  // Redo after the conflict is a versioned change too: refused again, never silent.
  undo.redo();
  assert.equal(transport.last().frame.version, 2);
});

test("undo of a note someone else deleted explains and drops its steps", async () => {
  const { transport, store, undo, messages } = setup();
  const { n, entry } = known(store, {});
  store.setColor(entry, "#93c5fd");
  await transport.ack({ ...n, color: "#93c5fd", version: 2, seq: 2 });
  store.applyEvent({ note: { ...n, deleted: true, version: 3, seq: 3 } });
  const sent = transport.sent.length;
  assert.ok(undo.undo());
  assert.equal(transport.sent.length, sent);
  assert.ok(messages.some((m) => /deleted by someone else/.test(m)));
  assert.ok(!undo.stack.canUndo && !undo.stack.canRedo);
});

test("undo of our delete restores with the tombstone's version; a conflict there is explained", async () => {
  const { transport, store, undo, messages } = setup();
  const { n, entry } = known(store, { text: "keep me", version: 3 });
  store.remove(entry);
  assert.equal(transport.last().frame.version, 3);
  await transport.ack({ ...n, deleted: true, version: 4, seq: 2 });
  assert.equal(store.list().length, 0);
  undo.undo();
  const frame = transport.last().frame;
  assert.deepEqual([frame.type, frame.id, frame.deleted, frame.version, frame.text, frame.x], ["update", n.id, false, 4, "keep me", 10]);
  await transport.fail("conflict");
  assert.equal(store.list().length, 0);
  assert.ok(messages.some((m) => /not brought back/.test(m)));
});

test("the event of a restore (op created, version > 1) lands on the restoring note, not a second one", async () => {
  const { transport, store, undo } = setup();
  const { n, entry } = known(store, { text: "again" });
  store.remove(entry);
  await transport.ack({ ...n, deleted: true, version: 2, seq: 2 });
  undo.undo();
  store.applyEvent({ op: "created", note: { ...n, version: 3, seq: 3 } });
  await transport.ack({ ...n, version: 3, seq: 3 });
  assert.equal(store.list().length, 1);
  assert.equal(store.list()[0].id, n.id);
});

test("a group of changes is one undo step: undo brings every note back, redo repeats them all", async () => {
  const { transport, store, undo } = setup();
  const [a, b, c] = [1, 2, 3].map((i) => note({ id: i, text: `n${i}`, seq: i, x: 10 * i, y: 0 }));
  store.applySnapshot({ full: true, notes: [a, b, c] });
  const entries = [1, 2, 3].map((id) => store.byId.get(id));
  store.group(() => {
    for (const e of entries) store.setFields(e, { x: e.view().x + 100 });
  });
  assert.equal(undo.stack.done.length, 1, "one step for three notes");
  assert.equal(transport.sent.length, 3, "sent together");
  for (const [i, e] of entries.entries()) await transport.ack({ ...e.server, x: 10 * (i + 1) + 100, seq: 4 + i, version: 2 }, transport.sent[i]);
  undo.undo();
  const back = transport.sent.slice(3).map((p) => [p.frame.id, p.frame.x, p.frame.version]);
  assert.deepEqual(back.sort(), [[1, 10, 2], [2, 20, 2], [3, 30, 2]], "each note back, based on the version our change made");
  assert.equal(undo.stack.undone.length, 1);
});

test("undo right after our own delete, whose event came before its ack, waits for the ack and restores", async () => {
  const { transport, store, undo, messages } = setup();
  const n = note({ id: 5, text: "gone soon", seq: 1 });
  store.applySnapshot({ full: true, notes: [n] });
  store.remove(store.byId.get(5));
  const del = transport.last();
  store.applyEvent({ op: "deleted", note: { ...n, deleted: true, text: "", seq: 2, version: 2 } }); // event first
  undo.undo(); // before the ack: not "deleted by someone else"
  assert.deepEqual(messages, []);
  await transport.ack({ ...n, deleted: true, text: "", seq: 2, version: 2 }, del);
  const restore = transport.last().frame;
  assert.deepEqual([restore.type, restore.id, restore.deleted, restore.version], ["update", 5, false, 2]);
});
