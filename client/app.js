// The board page (/b/{board}): wires the socket, the note store and the view to the page's header.
//
// Optional query parameters tune the connection (tests use them to keep waits short):
//   ?ping=<ms> ping interval, ?pingTimeout=<ms>, ?ackTimeout=<ms>, ?backoffMax=<ms>, ?backoffBase=<ms>
// An access token may come in the fragment, `#token=...` (see auth.js); it is saved and taken off the address.

import { TokenGate, loadToken, probeAccess, saveToken, takeFragmentToken } from "./auth.js";
import { BoardView } from "./board.js";
import { BOARD_RE, MAX_TEXT, SNAPSHOT_LIMIT, State } from "./constants.js";
import { CursorLayer } from "./cursors.js";
import { ShortcutOverlay, bindShortcuts } from "./keys.js";
import { word } from "./messages.js";
import { NoteStore } from "./notes.js";
import { Overflow } from "./overflow.js";
import { SharedText } from "./textsync.js";
import { TouchControl } from "./touch.js";
import { PeerView } from "./peerview.js";
import { Replay } from "./replay.js";
import { VersionsPanel } from "./versions.js";
import { BoardSession } from "./session.js";
import { WorkshopTimer } from "./timer.js";
import { VoteControl } from "./voteview.js";
import { WritingControl } from "./writingview.js";
import { AwarenessSender, Peers } from "./peers.js";
import { cleanName, loadColor, loadName, rememberBoard, saveColor, saveName, voterKey } from "./prefs.js";
import { BoardSocket } from "./socket.js";
import { AccessBadge, TokenDialog } from "./tokenview.js";
import { Toolbar } from "./toolbar.js";
import { Toasts, byId as $, confirmDialog, hueOf, initials, openDialog } from "./ui.js";
import { UndoController } from "./undo.js";
import { PresenceView, StatusView } from "./statusview.js";

function main() {
  // First of all, so the token leaves the address bar even on a page that is not a board.
  const fromAddress = takeFragmentToken(window);
  if (fromAddress) saveToken(location.origin, fromAddress);
  const board = boardFromPath(location.pathname);
  const toasts = new Toasts($("toasts"));
  $("board-name").textContent = board;
  if (!BOARD_RE.test(board)) {
    document.title = "Not a board · notesboard";
    $("new-note", HTMLButtonElement).disabled = true;
    toasts.show("This address is not a board: names use letters, digits, _ and -.", "error", 60000);
    return;
  }
  document.title = `${board} · notesboard`;
  rememberBoard(board);

  let name = loadName();
  const tokenDialog = new TokenDialog();
  const gate = new TokenGate({
    token: fromAddress || loadToken(location.origin),
    probe: (token) => probeAccess(board, token),
    ask: (problem) => tokenDialog.ask(problem, board),
    save: (token) => saveToken(location.origin, token),
  });
  const socket = new BoardSocket(board, {
    url: wsOrigin(),
    name,
    token: gate.token,
    key: voterKey(),
    limit: SNAPSHOT_LIMIT,
    ...tuning(new URLSearchParams(location.search)),
  });
  gate.attach(socket);
  // The store writes through the socket; a write refused as `forbidden` tells the gate the token is read-only.
  const store = new NoteStore({
    push: (frame) =>
      socket.push(frame).catch((err) => {
        gate.writeRefused(err);
        throw err;
      }),
    amend: (clientId, fields) => socket.amend(clientId, fields),
    cancel: (clientId) => socket.cancel(clientId),
  });
  store.author = name || null;
  const view = new BoardView({
    scroller: $("board"),
    canvas: $("canvas"),
    empty: $("empty"),
    store,
    confirm: (message, ok) => confirmDialog($("confirm-dialog", HTMLDialogElement), message, ok),
    newColor: loadColor,
    colorPicked: saveColor,
  });
  const undo = new UndoController(store);
  const toolbar = new Toolbar({
    board,
    view,
    undo,
    token: () => gate.token,
    confirm: (message, ok) => confirmDialog($("confirm-dialog", HTMLDialogElement), message, ok),
    toast: (text, level) => toasts.show(text, level),
  });
  // Small screens: what does not fit moves into the toolbar's "More" menu.
  new Overflow($("overflow-menu", HTMLDetailsElement), $("overflow-pop"), [
    { bar: document.querySelector(".topbar"), items: [$("name-button"), $("token-button")] },
    { bar: $("toolbar-bar"), items: [$("help"), $("replay-button"), $("board-menu"), $("zoom-fit"), $("new-section"), $("writing"), $("votes"), $("timer")] },
  ]);
  new TouchControl(view);
  // A saved note's text is typed together on /y/ (issue #22): keystrokes merge, nothing conflicts.
  view.shareText = (noteId, editor) =>
    new SharedText({
      ...{ url: wsOrigin(), board, noteId, token: gate.token, key: voterKey(), editor, maxText: MAX_TEXT, name },
      // a caret in the colour the board shows that person in (their awareness on /ws), when it knows them
      colorOf: (who) => [...peers.byId.values()].find((p) => p.name === who && p.editing === noteId)?.color ?? null,
      colorsChanged: (fn) => {
        const off = peers.subscribe(fn);
        return () => void off();
      },
    });
  const overlay = new ShortcutOverlay();
  $("help").addEventListener("click", () => overlay.open());

  socket.on("snapshot", (snapshot) => {
    store.applySnapshot(snapshot);
    const more = $("more-note");
    more.hidden = snapshot.more !== true;
    more.textContent = snapshot.more === true ? `Showing the newest ${snapshot.notes.length} notes of this board.` : "";
  });
  socket.on("event", (event) => store.applyEvent(event));
  socket.on("error", (frame) => {
    // An awareness frame refused (e.g. it named a note deleted a moment before) is no news for the user.
    if (typeof frame.message === "string" && frame.message.startsWith("awareness:")) return;
    toasts.show(serverErrorText(frame), "error");
  });

  // Seeing each other: others' cursors, who edits or selects what, following a view (issue #21).
  const peers = new Peers();
  const sender = new AwarenessSender((frame) => socket.sendAwareness(frame));
  socket.on("snapshot", () => {
    peers.reset(); // a new connection: its full awareness frame follows
    sender.resend(); // and the server knows nothing of this page's state yet
  });
  socket.on("awareness", (frame) => peers.apply(frame));
  new CursorLayer($("canvas"), peers, view.viewport);
  const peerView = new PeerView({
    peers,
    sender,
    view,
    store,
    list: $("peers"),
    banner: $("follow-banner"),
  });
  store.subscribe((change) => {
    if (change.type !== "message") return;
    const { level, text } = word(change);
    toasts.show(text, level);
  });

  const status = new StatusView(socket);
  socket.on("status", (s) => status.update(s));
  const presence = new PresenceView();
  socket.on("presence", (p) => presence.update(p));
  socket.on("status", (s) => presence.connected(s.state === State.CONNECTED));

  const badge = new AccessBadge({ button: $("token-button", HTMLButtonElement), label: $("token-label"), readOnly: $("readonly-badge") });
  let wasReadOnly = false;
  const showAccess = () => {
    badge.update(gate);
    view.setReadOnly(gate.readOnly);
    document.body.dataset.readonly = String(gate.readOnly);
    $("new-note", HTMLButtonElement).disabled = gate.readOnly;
    $("new-section", HTMLButtonElement).disabled = gate.readOnly;
    $("new-note").title = gate.readOnly ? "Your access token is read-only" : "New note (N)";
    if (gate.readOnly && !wasReadOnly) toasts.show("This board is read-only with your access token.", "info");
    wasReadOnly = gate.readOnly;
  };
  gate.subscribe(showAccess);
  showAccess();
  $("token-button").addEventListener("click", () => gate.change());

  // History (issue #24): a note's versions, and the board replayed (read-only; the live board runs on).
  const versions = new VersionsPanel({ board, store, token: () => gate.token, readOnly: () => gate.readOnly, toast: (t, l) => toasts.show(t, l) });
  view.showVersions = (entry) => versions.open(entry);
  const replay = new Replay({
    board,
    token: () => gate.token,
    live: store,
    liveViewport: view.viewport,
    toast: (t, l) => toasts.show(t, l),
    onToggle: (active) => {
      document.body.dataset.replay = String(active);
      if (!active) {
        view.refresh();
        $("board").focus({ preventScroll: true });
      }
    },
  });
  $("replay-button").addEventListener("click", () => replay.open());
  const live = (fn) => () => {
    if (!replay.active) fn(); // the live board's tools wait while the history shows
  };
  $("new-note").addEventListener("click", () => view.createInView());
  // Workshops (issue #23): sections, and the templates an empty board offers.
  $("new-section").addEventListener("click", () => view.sections.createInView());
  const session = new BoardSession({ board, token: () => gate.token });
  socket.on("snapshot", (snapshot) => session.heard(snapshot.session)); // the board session, when it has one
  socket.on("session", (frame) => session.heard(frame.session));
  new WorkshopTimer({ session, toast: (t, l) => toasts.show(t, l) });
  new VoteControl({ view, socket, session, readOnly: () => gate.readOnly, toast: (t, l) => toasts.show(t, l) });
  new WritingControl({ session, toast: (t, l) => toasts.show(t, l) });
  for (const button of /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll("[data-template]"))) {
    button.addEventListener("click", () => view.sections.applyTemplate(button.dataset.template ?? ""));
  }
  bindShortcuts({
    new: live(() => view.createInView()),
    section: live(() => view.sections.createInView()),
    search: live(() => toolbar.focusSearch()),
    help: () => overlay.open(),
    undo: live(() => toolbar.undo()),
    redo: live(() => toolbar.redo()),
    "zoom-in": live(() => toolbar.zoom(1)),
    "zoom-out": live(() => toolbar.zoom(-1)),
    "zoom-reset": live(() => view.viewport.setZoom(1)),
    fit: () => (replay.active ? replay.view?.fitToScreen() : view.fitToScreen()),
    history: () => (replay.active ? replay.close() : replay.open()),
  });

  const showName = () => {
    $("name-label").textContent = name || "Set your name";
    const avatar = $("name-avatar");
    avatar.textContent = name ? initials(name) : "?";
    avatar.style.setProperty("--hue", String(name ? hueOf(name) : 220));
  };
  showName();
  // Cancel is type="button" so that Enter in the field submits with "save".
  $("name-cancel").addEventListener("click", () => $("name-dialog", HTMLDialogElement).close("cancel"));
  $("name-button").addEventListener("click", async () => {
    const input = $("name-input", HTMLInputElement);
    input.value = name;
    const answering = openDialog($("name-dialog", HTMLDialogElement), input);
    input.select();
    const answer = await answering;
    if (answer !== "save") return;
    const next = cleanName(input.value);
    if (next === name) return;
    name = next;
    saveName(name);
    store.author = name || null;
    showName();
    socket.setName(name); // reconnects so the server uses the new name
    toasts.show(name ? `You appear as “${name}”.` : "You appear without a name.", "info");
  });

  window.addEventListener("beforeunload", (ev) => {
    if (socket.pending > 0) {
      ev.preventDefault();
      ev.returnValue = ""; // some browsers still need it for the "leave page?" prompt
    }
  });

  socket.watchBrowser(window);
  socket.connect();
  gate.check(); // next to the first connection: a refused handshake only shows as a failed one
  // A debugging handle (read it in the console); the page never reads it back.
  Object.assign(window, { notesboard: { socket, store, view, gate, undo, peers, peerView, replay, versions } });
}

/** The board name: the last segment of /b/{board}, "" when it cannot be decoded. */
function boardFromPath(pathname) {
  try {
    return decodeURIComponent(pathname.split("/").filter(Boolean).pop() ?? "");
  } catch {
    return "";
  }
}

/** "ws://host" or "wss://host" for the page's own server. */
function wsOrigin() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
}

/** Connection options from the query string; only the ones given, as positive numbers. */
function tuning(params) {
  const num = (key) => {
    const v = Number(params.get(key));
    return params.has(key) && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const options = {};
  const set = (target, key, value) => {
    if (value !== undefined) target[key] = value;
  };
  set(options, "pingIntervalMs", num("ping"));
  set(options, "pingTimeoutMs", num("pingTimeout"));
  set(options, "ackTimeoutMs", num("ackTimeout"));
  const backoff = {};
  set(backoff, "maxMs", num("backoffMax"));
  set(backoff, "baseMs", num("backoffBase"));
  if (Object.keys(backoff).length) options.backoff = backoff;
  return options;
}

function serverErrorText(frame) {
  const what = {
    rate_limited: "Slow down",
    unavailable: "The server is busy",
    forbidden: "Not allowed",
    too_large: "Too large",
    bad_request: "Request refused",
  }[frame.code];
  return `${what ?? "Error"}: ${frame.message ?? frame.code}`;
}

main();
