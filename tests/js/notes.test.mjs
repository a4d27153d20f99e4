import assert from "node:assert/strict";
import { test } from "node:test";

import { CODES, CONFLICT_CODES, conflictText, word } from "../../client/messages.js";
import { NoteStore } from "../../client/notes.js";
import { FakeTransport, note, settle } from "./fakes.mjs";

function setup() {
  const transport = new FakeTransport();
  const store = new NoteStore(transport);
  const changes = [];
  store.subscribe((c) => changes.push(c));
  // The store emits codes; the view words them (messages.js): each message with its code and its words.
  const messages = () => changes.filter((c) => c.type === "message").map((c) => ({ ...c, ...word(c) }));
  const texts = () => store.list().map((e) => e.view().text);
  return { store, transport, changes, messages, texts };
}

test("a full snapshot replaces everything; a since snapshot applies changes and tombstones", () => {
  const { store, texts } = setup();
  const a = note({ text: "a", seq: 1 });
  const b = note({ text: "b", seq: 2 });
  store.applySnapshot({ full: true, notes: [a, b] });
  assert.deepEqual(texts(), ["a", "b"]);
  store.applySnapshot({
    full: false,
    notes: [
      { ...a, deleted: true, seq: 3, version: 2 },
      { ...b, text: "b2", seq: 4, version: 2 },
      note({ text: "c", seq: 5 }),
    ],
  });
  assert.deepEqual(texts(), ["b2", "c"]);
  store.applySnapshot({ full: true, notes: [note({ text: "fresh", seq: 1 })] });
  assert.deepEqual(texts(), ["fresh"], "reset: earlier notes are gone even with higher seqs");
});

test("a full snapshot that repeats a note's change redraws nothing; a changed or reset note is applied", () => {
  const { store, changes, texts } = setup();
  const a = note({ text: "a", seq: 1 });
  const b = note({ text: "b", seq: 2 });
  store.applySnapshot({ full: true, notes: [a, b] });
  const before = changes.filter((c) => c.type === "upsert").length;
  store.applySnapshot({ full: true, notes: [{ ...a }, { ...b, text: "b2", seq: 3, version: 2 }] });
  const upserts = changes.filter((c) => c.type === "upsert").slice(before);
  assert.deepEqual(upserts.map((c) => c.entry.view().text), ["b2"], "only the changed note is redrawn");
  store.applySnapshot({ full: true, notes: [{ ...a, text: "other", updated_at: "2030-01-01T00:00:00Z" }] });
  assert.deepEqual(texts(), ["other"], "same seq and version but another time (a new epoch): applied");
});

test("events upsert by id, ignore stale copies, and remove on delete", () => {
  const { store, texts } = setup();
  const n = note({ text: "x", seq: 7, version: 3 });
  store.applyEvent({ op: "updated", note: n }); // an update for an unknown id is an upsert
  assert.deepEqual(texts(), ["x"]);
  store.applyEvent({ op: "updated", note: { ...n, text: "older", seq: 6 } });
  assert.deepEqual(texts(), ["x"]);
  store.applyEvent({ op: "deleted", note: { ...n, seq: 8, deleted: true } });
  assert.deepEqual(texts(), []);
  store.applyEvent({ op: "deleted", note: { ...n, seq: 9, deleted: true } });
  assert.equal(store.entries.size, 0);
});

test("create: the event before the ack does not make a second note", async () => {
  const { store, transport, texts } = setup();
  const draft = store.createDraft({ x: 10, y: 20, color: "#fde68a" });
  assert.equal(transport.sent.length, 0, "a draft is not sent");
  store.finishEdit(draft, "hello");
  assert.deepEqual(transport.last().frame, {
    type: "create",
    client_id: transport.last().frame.client_id,
    text: "hello",
    color: "#fde68a",
    x: 10,
    y: 20,
  });
  assert.equal(draft.view().pending, true);
  const n = note({ text: "hello", x: 10, y: 20, seq: 1 });
  store.applyEvent({ op: "created", note: n });
  await transport.ack(n);
  assert.deepEqual(texts(), ["hello"]);
  assert.equal(store.byId.get(n.id), draft, "the entry the user has keeps the note");
  assert.equal(draft.view().pending, false);
});

test("create: the event before the ack never shows the note twice, not even for a moment", async () => {
  const { store, transport, changes } = setup();
  const draft = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(draft, "echo");
  const n = note({ text: "echo", seq: 3 });
  store.applyEvent({ op: "created", note: n });
  assert.equal(store.list().length, 1, "the event of our own create is kept back until its ack");
  const later = { ...n, x: 50, seq: 4, version: 2 };
  store.applyEvent({ op: "updated", note: later }); // someone moved it before our ack arrived
  assert.equal(store.list().length, 1);
  await transport.ack(n);
  assert.deepEqual(store.list(), [draft]);
  assert.equal(draft.view().x, 50, "the newer copy that waited wins over the ack's");
  assert.equal(draft.view().pending, false);
  const upserted = new Set(changes.filter((c) => c.type === "upsert").map((c) => c.entry));
  assert.deepEqual([...upserted], [draft], "no second note was ever drawn");
});

test("a note of the same text from someone else shows once our create is answered", async () => {
  const { store, transport, texts } = setup();
  const draft = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(draft, "same");
  const theirs = note({ text: "same", seq: 5 });
  store.applyEvent({ op: "created", note: theirs });
  assert.deepEqual(texts(), ["same"]);
  const ours = note({ text: "same", seq: 6 });
  store.applyEvent({ op: "created", note: ours });
  await transport.ack(ours);
  assert.deepEqual(texts(), ["same", "same"]);
  assert.equal(store.byId.get(ours.id), draft);
  assert.equal(store.byId.get(theirs.id).view().text, "same");
});

test("a kept-back note deleted meanwhile stays gone; a failed create shows what it kept back", async () => {
  const { store, transport, texts } = setup();
  const one = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(one, "gone");
  const n = note({ text: "gone", seq: 1 });
  store.applyEvent({ op: "created", note: n });
  store.applyEvent({ op: "deleted", note: { ...n, seq: 2, version: 2, deleted: true } });
  await transport.ack(n);
  assert.deepEqual(texts(), [], "the ack's copy is older than the tombstone that waited");

  const two = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(two, "x");
  const other = note({ text: "x", seq: 3 });
  store.applyEvent({ op: "created", note: other });
  assert.deepEqual(texts(), ["x"]);
  await transport.fail("rate_limited");
  assert.deepEqual(texts(), ["x"]);
  assert.equal(store.byId.get(other.id).view().text, "x", "someone else's note is shown after all");
});

test("create: the ack before the event", async () => {
  const { store, transport, texts } = setup();
  const draft = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(draft, "hi");
  const n = note({ text: "hi", seq: 1 });
  await transport.ack(n);
  store.applyEvent({ op: "created", note: n });
  assert.deepEqual(texts(), ["hi"]);
});

test("create replayed after a reconnect: the resume snapshot and the replayed ack meet in one note", async () => {
  const { store, transport, texts } = setup();
  const draft = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(draft, "once");
  const n = note({ text: "once", seq: 4 });
  store.applySnapshot({ full: false, notes: [n] });
  const later = { ...n, text: "edited by someone", seq: 6, version: 2 };
  store.applyEvent({ op: "updated", note: later });
  await transport.ack(n); // replayed ack: original create's seq, but we already know a newer state
  assert.deepEqual(texts(), ["edited by someone"]);
});

test("an empty draft, or Escape, discards it", () => {
  const { store, transport } = setup();
  store.finishEdit(store.createDraft({ x: 0, y: 0 }), "   ");
  store.finishEdit(store.createDraft({ x: 0, y: 0 }), null);
  assert.equal(store.entries.size, 0);
  assert.equal(transport.sent.length, 0);
});

test("edits made while the create waits offline ride on the create", async () => {
  const { store, transport } = setup();
  transport.offline = true;
  const draft = store.createDraft({ x: 0, y: 0, color: "#fde68a" });
  store.finishEdit(draft, "first");
  store.move(draft, 50, 60);
  store.setColor(draft, "#93c5fd");
  assert.equal(transport.sent.length, 1);
  assert.deepEqual(
    { ...transport.last().frame, client_id: undefined },
    { type: "create", client_id: undefined, text: "first", color: "#93c5fd", x: 50, y: 60 },
  );
  assert.equal(draft.view().x, 50);
});

test("changes to one note go one at a time, each on the version the previous ack returned", async () => {
  const { store, transport } = setup();
  const n = note({ seq: 1, version: 1, text: "t" });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.move(e, 5, 5);
  store.setColor(e, "#86efac");
  store.move(e, 9, 9);
  assert.equal(transport.sent.length, 1);
  assert.deepEqual(e.view(), { ...e.view(), x: 9, y: 9, color: "#86efac", pending: true });
  assert.equal(transport.last().frame.version, 1);
  await transport.ack({ ...n, x: 5, y: 5, version: 2, seq: 2 });
  assert.equal(transport.sent.length, 2);
  assert.deepEqual(transport.last().frame, {
    type: "update",
    id: n.id,
    color: "#86efac",
    x: 9,
    y: 9,
    version: 2,
    client_id: transport.last().frame.client_id,
  });
  await transport.ack({ ...n, x: 9, y: 9, color: "#86efac", version: 3, seq: 3 });
  assert.equal(e.view().pending, false);
});

test("editing on a stale version: conflict shows the server's note and tells the user", async () => {
  const { store, transport, messages } = setup();
  const n = note({ seq: 1, version: 1, text: "original" });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.beginEdit(e);
  const theirs = { ...n, text: "theirs", version: 2, seq: 2 };
  store.applyEvent({ op: "updated", note: theirs });
  assert.equal(e.changedWhileEditing(), true);
  store.finishEdit(e, "mine");
  assert.equal(transport.last().frame.version, 1, "sent with the version the edit started from");
  assert.equal(e.view().text, "mine", "shown at once");
  await transport.fail("conflict");
  assert.equal(e.view().text, "theirs");
  assert.equal(e.conflict.mine, "mine");
  assert.equal(e.conflict.code, "text_refused");
  assert.match(conflictText(e.conflict.code), /someone else/i);
  assert.equal(messages().at(-1).code, "edit_conflict");
  assert.equal(messages().at(-1).level, "warn");
  store.resolveConflict(e, true);
  assert.equal(e.conflict, null);
  const { text, version } = transport.last().frame;
  assert.deepEqual({ text, version }, { text: "mine", version: 2 });
});

test("own changes during an edit do not make it stale", async () => {
  const { store, transport } = setup();
  const n = note({ seq: 1, version: 1, text: "a" });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.beginEdit(e);
  store.move(e, 1, 1); // dragged while the editor is open
  const moved = { ...n, x: 1, y: 1, version: 2, seq: 2 };
  store.applyEvent({ op: "updated", note: moved }); // the event may come before the ack
  await transport.ack(moved);
  store.finishEdit(e, "b");
  assert.equal(transport.last().frame.version, 2);
});

test("a resent update that already happened is not a conflict", async () => {
  const { store, transport, messages } = setup();
  const n = note({ seq: 1, version: 1, color: "#FDE68A" });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.setColor(e, "#fde68a".toUpperCase());
  store.setColor(e, "#93c5fd");
  const first = transport.last();
  store.applySnapshot({ full: false, notes: [{ ...n, version: 2, seq: 2 }] }); // after a reconnect
  await transport.fail("conflict", first);
  assert.equal(e.conflict, null);
  assert.equal(messages().length, 0);
  assert.deepEqual([transport.last().frame.color, transport.last().frame.version], ["#93c5fd", 2]);
});

test("other errors undo the change and say why", async () => {
  const { store, transport, messages } = setup();
  const n = note({ seq: 1, version: 1, x: 0, y: 0 });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.move(e, 40, 40);
  await transport.fail("rate_limited");
  assert.equal(e.view().x, 0);
  assert.equal(messages().at(-1).level, "error");
  store.move(e, 40, 40);
  await transport.fail("not_found");
  assert.equal(store.entries.size, 0);
  assert.match(messages().at(-1).text, /deleted/);
});

test("delete: hidden at once, gone on ack; a conflict brings it back", async () => {
  const { store, transport, texts } = setup();
  const n = note({ seq: 1, version: 1, text: "x" });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.remove(e);
  assert.equal(e.view().hidden, true);
  const sent = transport.last().frame;
  assert.deepEqual(sent, { type: "delete", id: n.id, version: 1, client_id: sent.client_id });
  await transport.fail("conflict");
  assert.equal(e.view().hidden, false);
  assert.ok(e.conflict);
  store.remove(e);
  await transport.ack({ ...n, deleted: true, version: 2, seq: 3 });
  assert.deepEqual(texts(), []);
  const m = note({ seq: 4 });
  store.applyEvent({ op: "created", note: m });
  store.remove(store.byId.get(m.id));
  await transport.fail("not_found"); // someone else deleted it first: same outcome
  assert.deepEqual(texts(), []);
});

test("deleting a note whose create never left the page cancels the create", async () => {
  const { store, transport } = setup();
  transport.offline = true;
  const d = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(d, "oops");
  store.remove(d);
  await settle();
  assert.equal(store.entries.size, 0);
  assert.equal(transport.queued.size, 0);
});

test("deleting while the create is in flight deletes after its ack", async () => {
  const { store, transport } = setup();
  const d = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(d, "soon gone");
  store.remove(d);
  assert.equal(transport.sent.length, 1);
  const n = note({ text: "soon gone", seq: 1 });
  await transport.ack(n, transport.sent[0]);
  assert.equal(transport.last().frame.type, "delete");
  await transport.ack({ ...n, deleted: true, version: 2, seq: 2 });
  assert.equal(store.entries.size, 0);
});

test("a note deleted by someone else while being edited: the user is told", () => {
  const { store, messages } = setup();
  const n = note({ seq: 1 });
  store.applySnapshot({ full: true, notes: [n] });
  const e = store.byId.get(n.id);
  store.beginEdit(e);
  store.applyEvent({ op: "deleted", note: { ...n, deleted: true, seq: 2, version: 2 } });
  assert.equal(store.entries.size, 0);
  assert.match(messages().at(-1).text, /deleted by someone else/);
  store.finishEdit(e, "too late"); // the editor closes afterwards: nothing happens
});

test("a failed create removes the note and explains", async () => {
  const { store, transport, messages } = setup();
  const d = store.createDraft({ x: 0, y: 0 });
  store.finishEdit(d, "x");
  await transport.fail("timeout");
  assert.equal(store.entries.size, 0);
  assert.match(messages().at(-1).text, /not saved/);
});

test("the store emits codes, never words; every code has words", () => {
  const { store, changes } = setup();
  store.say("text_too_long", { max: 10000 });
  const said = changes.at(-1);
  assert.deepEqual(said, { type: "message", max: 10000, code: "text_too_long" });
  assert.deepEqual(word(said), { level: "error", text: "Not saved: the text is longer than 10,000 characters." });
  for (const code of CODES) {
    const { level, text } = word({ code, reason: "conflict", detail: "why", unsaved: true, max: 5 });
    assert.ok(["info", "warn", "error"].includes(level) && text.length > 10 && !text.includes("undefined"), code);
  }
  for (const code of CONFLICT_CODES) assert.match(conflictText(code), /someone else/i);
  assert.deepEqual(word({ code: "unknown_code", detail: "as the server said" }), {
    level: "error",
    text: "as the server said",
  });
});

test("an entry's phase follows its life: draft, creating, synced, saving, deleting, removed", async () => {
  const { store, transport } = setup();
  const e = store.createDraft({ x: 0, y: 0 });
  assert.equal(e.phase, "draft");
  store.finishEdit(e, "hello");
  assert.equal(e.phase, "creating");
  assert.equal(e.awaitingAck, true);
  const n = note({ text: "hello", seq: 1 });
  await transport.ack(n);
  assert.equal(e.phase, "synced");
  assert.equal(e.awaitingAck, false);
  store.setColor(e, "#93c5fd");
  assert.equal(e.phase, "saving");
  await transport.ack({ ...n, color: "#93c5fd", seq: 2, version: 2 });
  assert.equal(e.phase, "synced");
  store.remove(e);
  assert.equal(e.phase, "deleting");
  await transport.ack({ ...n, deleted: true, seq: 3, version: 3 });
  assert.equal(e.phase, "removed");
});
