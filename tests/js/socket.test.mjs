import assert from "node:assert/strict";
import { test } from "node:test";

import { Close, State } from "../../client/constants.js";
import { BoardSocket } from "../../client/socket.js";
import { FakeClock, fakeWebSocketClass, note, settle, snapshot } from "./fakes.mjs";

/** A socket on fakes, plus what it emitted. */
function setup(options = {}) {
  const clock = new FakeClock();
  const WS = fakeWebSocketClass();
  let online = true;
  const socket = new BoardSocket("b", {
    url: "ws://h:1/",
    name: "ada",
    WebSocket: WS,
    timers: clock,
    now: clock.now,
    random: () => 0.5,
    isOnline: () => online,
    backoff: { baseMs: 100, factor: 2, maxMs: 1000 },
    pingIntervalMs: 1000,
    pingTimeoutMs: 500,
    ackTimeoutMs: 2000,
    connectTimeoutMs: 3000,
    ...options,
  });
  const seen = { snapshot: [], event: [], presence: [], error: [], status: [] };
  for (const type of Object.keys(seen)) socket.on(type, (p) => seen[type].push(p));
  const ws = () => WS.instances.at(-1);
  return { socket, clock, WS, ws, seen, setOnline: (v) => (online = v) };
}

/** Connect and deliver a snapshot on the newest fake socket. */
function serve(ws, fields = {}) {
  ws.open();
  ws.receive(snapshot(fields));
}

test("connects with batch=1 and the name, without since the first time", () => {
  const { socket, ws, seen } = setup();
  socket.connect();
  assert.equal(ws().url.pathname, "/ws/b");
  assert.equal(ws().query("batch"), "1");
  assert.equal(ws().query("name"), "ada");
  assert.equal(ws().query("since"), null);
  assert.equal(socket.state, State.CONNECTING);
  serve(ws(), { seq: 3, presence: 2 });
  assert.equal(socket.state, State.CONNECTED);
  assert.equal(seen.snapshot[0].full, true);
  assert.deepEqual(seen.presence[0], { count: 2, names: null });
});

test("board names are encoded in the path", () => {
  const { socket, ws } = setup();
  const s = new BoardSocket("a-b_c", { url: "ws://h:1", WebSocket: ws.constructor, timers: new FakeClock() });
  assert.equal(s.board, "a-b_c");
  socket.connect();
  assert.ok(ws().url.href.startsWith("ws://h:1/ws/b?"));
});

test("splits batched messages into frames, in order", (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  const { socket, ws, seen } = setup();
  socket.connect();
  ws().open();
  ws().receive(
    snapshot({ seq: 1 }),
    { type: "event", op: "created", seq: 2, note: note({ seq: 2 }) },
    { type: "presence", count: 3, names: ["a", "b"] },
    { type: "event", op: "updated", seq: 3, note: note({ seq: 3 }) },
  );
  assert.deepEqual(seen.event.map((e) => e.seq), [2, 3]);
  assert.deepEqual(seen.presence.at(-1), { count: 3, names: ["a", "b"] });
  ws().receive("not json", { type: "future-frame" }, "", { type: "event", seq: 4, note: note({ seq: 4 }) });
  assert.deepEqual(seen.event.map((e) => e.seq), [2, 3, 4]);
  assert.equal(warn.mock.callCount(), 1, "the bad line is reported, the rest applied");
});

test("push waits for the snapshot, resolves with its ack, either order with the event", async () => {
  const { socket, ws } = setup();
  socket.connect();
  const created = socket.push({ type: "create", text: "hi", client_id: "c1" });
  ws().open();
  assert.equal(ws().sent.length, 0, "nothing is sent before the snapshot");
  ws().receive(snapshot({ seq: 0 }));
  assert.deepEqual(ws().frames("create"), [{ type: "create", text: "hi", client_id: "c1" }]);
  const n = note({ seq: 1, text: "hi" });
  ws().receive({ type: "event", op: "created", seq: 1, note: n }, { type: "ack", client_id: "c1", seq: 1, note: n });
  assert.equal((await created).note.text, "hi");
  const second = socket.push({ type: "update", id: n.id, text: "x" });
  const cid = ws().frames("update")[0].client_id;
  assert.match(cid, /^[A-Za-z0-9_.:-]{1,64}$/, "a client_id is added");
  const n2 = { ...n, seq: 2, version: 2 };
  ws().receive({ type: "ack", client_id: cid, seq: 2, note: n2 });
  ws().receive({ type: "event", op: "updated", seq: 2, note: n2 });
  assert.equal((await second).seq, 2);
  assert.equal(socket.pending, 0);
});

test("an error with a client_id rejects that push; others go to the error listeners", async () => {
  const { socket, ws, seen } = setup();
  socket.connect();
  serve(ws());
  const p = socket.push({ type: "update", id: 1, text: "x", version: 1, client_id: "u1" });
  ws().receive({ type: "error", code: "conflict", message: "version is 2", client_id: "u1" });
  await assert.rejects(p, (err) => err.name === "PushError" && err.code === "conflict" && err.clientId === "u1");
  ws().receive({ type: "error", code: "rate_limited", message: "slow down", client_id: null });
  assert.equal(seen.error.length, 1);
  assert.equal(seen.error[0].code, "rate_limited");
});

test("no answer in time: rejects with timeout and pings to check the connection", async () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws());
  const p = socket.push({ type: "create", text: "x", client_id: "c1" });
  clock.advance(999);
  ws().receive({ type: "pong" }); // the regular ping at 1000 ms is answered
  clock.advance(1);
  ws().receive({ type: "pong" });
  clock.advance(1000);
  await assert.rejects(p, (err) => err.code === "timeout");
  assert.equal(socket.pending, 0);
  assert.ok(ws().frames("ping").length >= 2);
});

test("changes made offline wait, then go out once, in order, after the resume snapshot", async () => {
  const { socket, ws, clock, seen } = setup();
  socket.connect();
  serve(ws(), { seq: 5, epoch: "E1" });
  const first = ws();
  first.serverClose(Close.GOING_AWAY, "server shutting down");
  assert.equal(socket.state, State.RECONNECTING);
  const a = socket.push({ type: "create", text: "a", client_id: "ca" });
  const b = socket.push({ type: "delete", id: 9, version: 1, client_id: "db" });
  assert.equal(socket.status().pending, 2);
  assert.equal(seen.status.at(-1).pending, 2);
  clock.advance(100); // backoff attempt 0 with random 0.5: 75 ms
  const second = ws();
  assert.notEqual(second, first);
  assert.equal(second.query("since"), "5");
  assert.equal(second.query("epoch"), "E1");
  second.open();
  assert.equal(second.sent.length, 0);
  second.receive(snapshot({ seq: 5, epoch: "E1" }));
  assert.equal(seen.snapshot.at(-1).full, false);
  assert.deepEqual(second.frames().map((f) => f.client_id), ["ca", "db"]);
  second.receive({ type: "ack", client_id: "ca", seq: 6, note: note({ seq: 6 }) });
  second.receive({ type: "ack", client_id: "db", seq: 7, note: note({ seq: 7, deleted: true }) });
  await a;
  await b;
  assert.equal(first.sent.length, 0);
});

test("a change in flight when the connection drops is resent with the same client_id", async () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws(), { seq: 1 });
  const p = socket.push({ type: "create", text: "a", client_id: "c1" });
  assert.equal(ws().frames("create").length, 1);
  ws().serverClose(1006);
  clock.advance(5000); // far beyond the ack timeout: the timer is stopped while disconnected
  serve(ws(), { seq: 2 });
  assert.deepEqual(ws().frames("create"), [{ type: "create", text: "a", client_id: "c1" }]);
  // The server replays the ack of a create it already committed.
  ws().receive({ type: "ack", client_id: "c1", seq: 2, note: note({ seq: 2 }) });
  assert.equal((await p).seq, 2);
});

test("1009 (frame too big): the largest change sent fails with too_large, the others are resent", async () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws(), { seq: 1 });
  const small = socket.push({ type: "create", text: "a", client_id: "s1" });
  const big = socket.push({ type: "create", text: "x".repeat(5000), client_id: "b1" });
  ws().serverClose(Close.TOO_BIG, "message too big");
  await assert.rejects(big, (err) => err.code === "too_large" && err.clientId === "b1");
  clock.advance(100);
  serve(ws(), { seq: 1 });
  assert.deepEqual(
    ws().frames("create").map((f) => f.client_id),
    ["s1"],
    "only the small change goes out again",
  );
  ws().receive({ type: "ack", client_id: "s1", seq: 2, note: note({ seq: 2 }) });
  assert.equal((await small).seq, 2);
  assert.equal(socket.pending, 0);
});

test("resumes with since after 1013 (too slow) and after any other close", () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws(), { seq: 8, epoch: "E" });
  ws().receive({ type: "event", op: "created", seq: 9, note: note({ seq: 9 }) });
  ws().serverClose(Close.TRY_AGAIN, "too slow");
  clock.advance(100);
  assert.equal(ws().query("since"), "9");
  serve(ws(), { seq: 9, epoch: "E" });
  ws().serverClose(1006);
  clock.advance(100);
  assert.equal(ws().query("since"), "9");
});

test("a seq gap drops the connection and resumes at once from the last good seq", () => {
  const { socket, ws, clock, seen } = setup();
  socket.connect();
  serve(ws(), { seq: 10 });
  const first = ws();
  first.receive(
    { type: "event", seq: 11, note: note({ seq: 11 }) },
    { type: "event", seq: 13, note: note({ seq: 13 }) },
    { type: "event", seq: 14, note: note({ seq: 14 }) },
  );
  assert.deepEqual(seen.event.map((e) => e.seq), [11], "nothing after the gap is applied");
  assert.equal(first.closedWith.code, Close.CLIENT_RESUME);
  clock.advance(0);
  assert.notEqual(ws(), first, "reconnected without waiting");
  assert.equal(ws().query("since"), "11");
  first.receive({ type: "event", seq: 12, note: note({ seq: 12 }) });
  assert.equal(seen.event.length, 1, "late frames of the dropped socket are ignored");
});

test("stale events are ignored", () => {
  const { socket, ws, seen } = setup();
  socket.connect();
  serve(ws(), { seq: 10 });
  ws().receive({ type: "event", seq: 9, note: note({ seq: 9 }) }, { type: "event", seq: 11, note: note({ seq: 11 }) });
  assert.deepEqual(seen.event.map((e) => e.seq), [11]);
});

test("an unanswered ping means a dead connection: reconnect", () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws());
  const first = ws();
  clock.advance(1000);
  assert.equal(first.frames("ping").length, 1);
  first.receive({ type: "pong" });
  clock.advance(1000);
  assert.equal(first.frames("ping").length, 2);
  clock.advance(500); // no pong
  assert.equal(first.closedWith.code, Close.CLIENT_RESUME);
  assert.equal(socket.state, State.RECONNECTING);
  clock.advance(100);
  assert.notEqual(ws(), first);
});

test("no snapshot in time: try again", () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  const first = ws();
  first.open();
  clock.advance(3000);
  assert.ok(first.closedWith);
  clock.advance(100);
  assert.notEqual(ws(), first);
});

test("backoff grows while attempts fail, the status turns offline, a snapshot resets it", () => {
  const { socket, ws, clock, seen } = setup({ offlineAfterAttempts: 3 });
  socket.connect();
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const before = ws();
    before.serverClose(1006);
    const retryAt = socket.retryAt;
    delays.push(retryAt - clock.time);
    clock.advance(retryAt - clock.time);
    assert.notEqual(ws(), before);
  }
  assert.deepEqual(delays, [75, 150, 300, 600, 750]);
  assert.equal(socket.state, State.OFFLINE);
  assert.ok(seen.status.some((s) => s.state === State.RECONNECTING));
  serve(ws());
  assert.equal(socket.state, State.CONNECTED);
  ws().serverClose(Close.GOING_AWAY);
  assert.equal(socket.retryAt - clock.time, 75);
});

test("the browser being offline shows as offline", () => {
  const { socket, ws, setOnline } = setup();
  socket.connect();
  serve(ws());
  setOnline(false);
  ws().serverClose(1006);
  assert.equal(socket.state, State.OFFLINE);
});

test("retryNow skips the wait", () => {
  const { socket, ws, clock } = setup({ backoff: { baseMs: 60_000, maxMs: 60_000 } });
  socket.connect();
  serve(ws());
  const first = ws();
  first.serverClose(1006);
  clock.advance(1000);
  assert.equal(ws(), first);
  socket.retryNow();
  assert.notEqual(ws(), first);
});

test("1008 is final: offline with the reason, until retryNow", () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  const first = ws();
  first.serverClose(Close.POLICY, "bad token");
  assert.equal(socket.state, State.OFFLINE);
  assert.equal(socket.reason, "bad token");
  clock.advance(60_000);
  assert.equal(ws(), first, "no automatic retry");
  socket.retryNow();
  assert.notEqual(ws(), first);
});

test("a new name reconnects with it (and resumes)", () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws(), { seq: 4 });
  const first = ws();
  socket.setName("grace hopper");
  assert.equal(first.closedWith.code, Close.CLIENT_RESUME);
  clock.advance(0);
  assert.equal(ws().query("name"), "grace hopper");
  assert.equal(ws().query("since"), "4");
  serve(ws(), { seq: 4 });
  socket.setName("");
  clock.advance(1000); // a second quick resume within 5 s waits for the backoff
  assert.equal(ws().query("name"), null);
});

test("a reset snapshot (new epoch) is a full one", () => {
  const { socket, ws, clock, seen } = setup();
  socket.connect();
  serve(ws(), { seq: 4, epoch: "old" });
  ws().serverClose(1006);
  clock.advance(100);
  ws().open();
  ws().receive(snapshot({ seq: 1, epoch: "new", reset: true }));
  assert.equal(seen.snapshot.at(-1).full, true);
  ws().receive({ type: "event", seq: 2, note: note({ seq: 2 }) });
  assert.equal(seen.event.length, 1);
});

test("queue full, cancel and amend", async () => {
  const { socket, ws } = setup({ maxQueue: 2 });
  socket.connect();
  const a = socket.push({ type: "create", text: "", client_id: "a" });
  socket.push({ type: "create", text: "", client_id: "b" }).catch(() => {});
  await assert.rejects(socket.push({ type: "create", text: "" }), (err) => err.code === "queue_full");
  assert.equal(socket.amend("a", { text: "typed" }), true);
  assert.equal(socket.cancel("b"), true);
  serve(ws());
  assert.deepEqual(ws().frames(), [{ type: "create", text: "typed", client_id: "a" }]);
  assert.equal(socket.amend("a", { text: "late" }), false);
  assert.equal(socket.cancel("a"), false);
  ws().receive({ type: "ack", client_id: "a", seq: 1, note: note({ seq: 1 }) });
  await a;
});

test("close() stops for good and rejects what waits", async () => {
  const { socket, ws, clock } = setup();
  socket.connect();
  serve(ws());
  const p = socket.push({ type: "create", text: "x" });
  const first = ws();
  socket.close();
  await assert.rejects(p, (err) => err.code === "closed");
  assert.equal(first.closedWith.code, Close.NORMAL);
  assert.equal(socket.state, State.CLOSED);
  clock.advance(60_000);
  assert.equal(ws(), first);
  await assert.rejects(socket.push({ type: "create", text: "y" }), (err) => err.code === "closed");
  await settle();
});

test("the token goes out as token= and only when set", () => {
  const { socket, ws } = setup({ token: "t.1" });
  socket.connect();
  assert.equal(ws().query("token"), "t.1");
  const plain = setup();
  plain.socket.connect();
  assert.equal(plain.ws().query("token"), null);
});

test("setToken replaces a live connection, resuming with the new token", () => {
  const { socket, ws, clock } = setup({ token: "read" });
  socket.connect();
  serve(ws(), { seq: 7 });
  const first = ws();
  socket.setToken("read");
  assert.equal(first.closedWith, null, "the same token changes nothing");
  socket.setToken("write");
  assert.equal(first.closedWith.code, Close.CLIENT_RESUME);
  clock.advance(0);
  assert.equal(ws().query("token"), "write");
  assert.equal(ws().query("since"), "7");
});

test("after 1008 the socket is refused until setToken, which connects at once", () => {
  const { socket, ws, clock, seen } = setup({ token: "old" });
  socket.connect();
  serve(ws());
  const first = ws();
  first.serverClose(Close.POLICY, "token expired");
  assert.deepEqual(
    { state: socket.status().state, refused: socket.status().refused, reason: socket.status().reason },
    { state: State.OFFLINE, refused: true, reason: "token expired" },
  );
  assert.equal(seen.status.at(-1).refused, true);
  clock.advance(60_000);
  assert.equal(ws(), first);
  socket.setToken("new");
  assert.notEqual(ws(), first);
  assert.equal(ws().query("token"), "new");
  assert.equal(socket.status().refused, false);
  assert.equal(seen.status.at(-1).refused, false);
});

test("setToken while waiting to retry tries now; before connect() it is only kept", () => {
  const { socket, ws, clock } = setup({ backoff: { baseMs: 60_000, maxMs: 60_000 } });
  socket.setToken("early");
  assert.equal(ws(), undefined, "not connecting before connect()");
  socket.connect();
  assert.equal(ws().query("token"), "early");
  const first = ws();
  first.serverClose(1006);
  clock.advance(1000);
  assert.equal(ws(), first);
  socket.setToken("later");
  assert.notEqual(ws(), first);
  assert.equal(ws().query("token"), "later");
  socket.close();
  socket.setToken("after close");
  assert.equal(socket.state, State.CLOSED);
});
