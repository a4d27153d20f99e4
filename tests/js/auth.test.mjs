import assert from "node:assert/strict";
import { test } from "node:test";

import {
  TokenGate,
  bearer,
  cleanToken,
  describeProblem,
  loadToken,
  probeAccess,
  saveToken,
  takeFragmentToken,
  tokenClaims,
  tokenKey,
} from "../../client/auth.js";
import { State } from "../../client/constants.js";
import { settle } from "./fakes.mjs";

/** An unsigned JWT-shaped token with these claims (the client never checks signatures). */
function jwt(claims) {
  const part = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/** A socket stand-in: records setToken, lets the test emit statuses. */
function fakeSocket() {
  const listeners = [];
  return {
    tokens: [],
    on: (type, fn) => type === "status" && listeners.push(fn),
    setToken(token) {
      this.tokens.push(token);
    },
    status(fields) {
      const s = { state: State.RECONNECTING, attempt: 0, retryAt: null, pending: 0, reason: null, refused: false };
      for (const fn of listeners) fn({ ...s, ...fields });
    },
  };
}

/**
 * A gate whose probe answers from `answers` (token -> {ok, status, message}) and whose dialog answers
 * with the next of `replies` (null: "Not now").
 */
function setup({ token = "", answers = {}, replies = [] } = {}) {
  const probes = [];
  const asked = [];
  const saved = [];
  const gate = new TokenGate({
    token,
    probe: async (t) => {
      probes.push(t);
      return answers[t] ?? { ok: true, status: 200, message: null };
    },
    ask: async (problem) => {
      asked.push(problem);
      return replies.shift() ?? null;
    },
    save: (t) => saved.push(t),
  });
  const socket = fakeSocket();
  gate.attach(socket);
  return { gate, socket, probes, asked, saved };
}

const WRITE = jwt({ board: "team-*", role: "write", exp: 2_000_000_000 });
const READ = jwt({ board: "team-*", role: "read", exp: 2_000_000_000 });
const NEED = { ok: false, status: 401, message: "this server requires a token (?token= on the socket)" };

test("tokens are kept per server origin", () => {
  const storage = new MemoryStorage();
  saveToken("http://a:1", "tok-a", storage);
  saveToken("http://b:2", "tok-b", storage);
  assert.equal(loadToken("http://a:1", storage), "tok-a");
  assert.equal(loadToken("http://b:2", storage), "tok-b");
  assert.equal(storage.getItem(tokenKey("http://a:1")), "tok-a");
  saveToken("http://a:1", "", storage);
  assert.equal(loadToken("http://a:1", storage), "");
  assert.equal(loadToken("http://c:3", undefined), "", "no storage: no token");
  const broken = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("SecurityError");
    },
  };
  assert.equal(loadToken("http://a:1", broken), "");
  saveToken("http://a:1", "x", broken); // does not throw
});

test("pasted tokens are cleaned", () => {
  assert.equal(cleanToken("  abc.def.ghi \n"), "abc.def.ghi");
  assert.equal(cleanToken("Bearer abc.def"), "abc.def");
  assert.equal(cleanToken("abc.\ndef"), "abc.def", "line breaks from copying are dropped");
  assert.equal(cleanToken("http://h:1/b/x#token=abc.def&z=1"), "abc.def");
  assert.equal(cleanToken(""), "");
  assert.equal(cleanToken(null), "");
  assert.equal(cleanToken("tök"), "");
  assert.equal(cleanToken("x".repeat(5000)), "");
});

test("a #token= fragment is taken once and removed from the address", () => {
  const replaced = [];
  const win = (hash) => ({
    location: { pathname: "/b/team-a", search: "?ping=100", hash },
    history: { state: null, replaceState: (_s, _t, url) => replaced.push(url) },
  });
  assert.equal(takeFragmentToken(win("#token=abc.def")), "abc.def");
  assert.equal(replaced.pop(), "/b/team-a?ping=100");
  assert.equal(takeFragmentToken(win("#x=1&token=a%2Eb&y=2")), "a.b");
  assert.equal(replaced.pop(), "/b/team-a?ping=100#x=1&y=2");
  assert.equal(takeFragmentToken(win("#other")), "");
  assert.equal(takeFragmentToken(win("")), "");
  assert.equal(replaced.length, 0, "no token: the address is left alone");
});

test("claims are read from a JWT, not trusted for more than the view", () => {
  assert.deepEqual(tokenClaims(READ), { role: "read", board: "team-*", exp: 2_000_000_000 });
  assert.deepEqual(tokenClaims(jwt({ role: "admin", board: 3 })), { role: null, board: null, exp: null });
  assert.equal(tokenClaims("opaque"), null);
  assert.equal(tokenClaims("a.!!!.c"), null);
  assert.equal(tokenClaims(""), null);
});

test("the probe asks REST with a Bearer header and reads the error body", async () => {
  const calls = [];
  const fetchFn = async (url, init) => {
    calls.push({ url, init });
    if (init.headers.authorization === undefined) {
      return { ok: false, status: 401, json: async () => ({ error: { code: "forbidden", message: "token expired" } }) };
    }
    return { ok: true, status: 200, json: async () => ({}) };
  };
  assert.deepEqual(await probeAccess("a b", "", fetchFn), { ok: false, status: 401, message: "token expired" });
  assert.equal(calls[0].url, "/api/boards/a%20b/notes?limit=1");
  assert.deepEqual(await probeAccess("x", "t", fetchFn), { ok: true, status: 200, message: null });
  assert.equal(calls[1].init.headers.authorization, "Bearer t");
  const down = await probeAccess("x", "t", async () => {
    throw new TypeError("Failed to fetch");
  });
  assert.deepEqual(down, { ok: false, status: 0, message: "Failed to fetch" });
  const proxy = await probeAccess("x", "", async () => ({ ok: false, status: 403, json: async () => "<html>" }));
  assert.deepEqual(proxy, { ok: false, status: 403, message: null });
  assert.deepEqual(bearer(""), {});
});

test("the dialog's words follow the refusal", () => {
  assert.match(describeProblem({ status: 401, message: "token expired" }).reason, /expired/);
  assert.match(describeProblem({ status: 403, message: "token does not grant board 'b'" }, "b").reason, /“b”/);
  assert.match(describeProblem({ status: 401, message: "invalid token: bad signature" }).reason, /not accept/);
  assert.match(describeProblem(NEED).reason, /needs an access token/);
  assert.equal(describeProblem({ status: 401, message: "token expired" }).detail, "The server said: token expired");
  assert.equal(describeProblem(null).detail, "");
});

test("no token and an open server: nothing to ask, writable", async () => {
  const { gate, asked, probes } = setup();
  await gate.check();
  assert.deepEqual(probes, [""]);
  assert.equal(asked.length, 0);
  assert.equal(gate.authOn, false);
  assert.equal(gate.readOnly, false);
  assert.equal(gate.required, false);
});

test("a 401 asks for a token, which is saved, sent on the socket and checked", async () => {
  const { gate, socket, asked, saved, probes } = setup({ answers: { "": NEED }, replies: [WRITE] });
  await gate.check();
  await settle();
  assert.deepEqual(asked, [{ status: 401, message: NEED.message }]);
  assert.deepEqual(saved, [WRITE]);
  assert.deepEqual(socket.tokens, [WRITE]);
  assert.deepEqual(probes, ["", WRITE]);
  assert.equal(gate.token, WRITE);
  assert.equal(gate.needed, null);
  assert.equal(gate.readOnly, false);
  assert.equal(gate.required, true);
});

test("a token that is refused again asks again; 'Not now' stops asking on failures", async () => {
  const bad = { ok: false, status: 401, message: "invalid token: Signature verification failed" };
  const { gate, socket, asked } = setup({ answers: { "": NEED, "bad.token": bad }, replies: ["bad.token", null] });
  await gate.check();
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(asked.length, 2);
  assert.equal(asked[1].message, bad.message);
  assert.deepEqual(gate.needed, { status: 401, message: bad.message });
  // Further failed attempts probe (once per attempt) but leave the dialog closed.
  socket.status({ attempt: 2 });
  socket.status({ attempt: 2, pending: 1 });
  socket.status({ attempt: 3 });
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(asked.length, 2);
  // The page's token button still asks, saying why.
  gate.change();
  await settle();
  assert.equal(asked.length, 3);
  assert.equal(asked[2].message, bad.message);
});

test("the token button asks without a reason while the token works", async () => {
  const { gate, asked } = setup({ token: WRITE });
  await gate.check();
  gate.change();
  await settle();
  assert.deepEqual(asked, [null]);
  assert.equal(gate.needed, null, "declining a voluntary change is not a problem");
});

test("repeated failures probe once per attempt, not before the second", async () => {
  const { socket, probes } = setup({ token: WRITE });
  socket.status({ attempt: 1 });
  socket.status({ attempt: 2 });
  socket.status({ attempt: 2 });
  await settle();
  socket.status({ attempt: 3 });
  await settle();
  assert.deepEqual(probes, [WRITE, WRITE]);
  socket.status({ state: State.CONNECTED, attempt: 0 });
  socket.status({ attempt: 2 });
  await settle();
  assert.equal(probes.length, 3, "a new run of failures probes again");
});

test("close 1008 'token expired' asks at once, even after 'Not now'", async () => {
  const fresh = jwt({ board: "*", role: "write", exp: 2_000_000_100 });
  const { gate, socket, asked, probes } = setup({ token: WRITE, replies: [fresh] });
  gate._declined = true;
  socket.status({ state: State.OFFLINE, refused: true, reason: "token expired" });
  socket.status({ state: State.OFFLINE, refused: true, reason: "token expired", pending: 2 });
  await settle();
  assert.deepEqual(asked, [{ status: 401, message: "token expired" }]);
  assert.deepEqual(socket.tokens, [fresh]);
  assert.deepEqual(probes, [fresh]);
});

test("another 1008 (not about the token) only probes", async () => {
  const { socket, asked, probes } = setup({ token: WRITE });
  socket.status({ state: State.OFFLINE, refused: true, reason: "sustained rate limit abuse" });
  await settle();
  assert.deepEqual(probes, [WRITE]);
  assert.equal(asked.length, 0);
});

test("a read-only token makes the board read-only where tokens are needed", async () => {
  const auth = setup({ token: READ, answers: { "": NEED } });
  assert.equal(auth.gate.readOnly, true, "at once, from the claims");
  await auth.gate.check();
  assert.deepEqual(auth.probes, [READ, ""]);
  assert.equal(auth.gate.authOn, true);
  assert.equal(auth.gate.readOnly, true);

  const open = setup({ token: READ });
  await open.gate.check();
  assert.equal(open.gate.authOn, false);
  assert.equal(open.gate.readOnly, false, "a server without auth lets anyone write");
  assert.equal(open.gate.required, false);
});

test("a write refused as forbidden makes it read-only; a new token clears that", async () => {
  const { gate } = setup({ token: "opaque-token" });
  const seen = [];
  gate.subscribe((g) => seen.push(g.readOnly));
  gate.writeRefused({ code: "conflict" });
  assert.equal(gate.readOnly, false);
  gate.writeRefused({ code: "forbidden" });
  assert.equal(gate.readOnly, true);
  assert.equal(gate.use("   "), false);
  assert.equal(gate.use(WRITE), true);
  assert.equal(gate.readOnly, false);
  assert.deepEqual(seen.slice(0, 2), [true, false]);
  await settle();
});

test("a probe for a token replaced meanwhile is ignored", async () => {
  let release;
  const gate = new TokenGate({
    token: "old",
    probe: (t) => (t === "old" ? new Promise((r) => (release = r)) : Promise.resolve({ ok: true, status: 200 })),
    ask: async () => assert.fail("must not ask"),
  });
  const pending = gate.check();
  gate.use(WRITE);
  release(NEED);
  await pending;
  await settle();
  assert.equal(gate.needed, null);
});
