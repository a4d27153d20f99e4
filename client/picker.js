// The board picker (/): the boards this browser opened (kept in localStorage), a field to open or create
// one, and the server's list of boards only when GET /api/boards answers 200 (the server lists boards
// only with --list-boards, or for a token whose pattern covers them; otherwise it answers 403).
// On a server that needs tokens the list is fetched with the saved one (Authorization: Bearer).

import { bearer, loadToken, needsToken, saveToken, takeFragmentToken } from "./auth.js";
import { BOARD_RE } from "./constants.js";
import { loadRecent } from "./prefs.js";
import { randomToken } from "./push.js";
import { TokenDialog } from "./tokenview.js";
import { byId as $, h } from "./ui.js";

/** @param {string} board */
function boardHref(board) {
  return `/b/${encodeURIComponent(board)}`;
}

function wireForm() {
  const form = $("open-form");
  const input = $("board-input", HTMLInputElement);
  const error = $("board-error");
  const check = () => {
    const name = input.value.trim();
    const ok = BOARD_RE.test(name);
    error.hidden = ok || name === "";
    error.textContent = ok ? "" : "Use letters, digits, _ and - (start with a letter or digit), at most 64 characters.";
    input.setAttribute("aria-invalid", String(!ok && name !== ""));
    return ok ? name : null;
  };
  input.addEventListener("input", () => {
    if (!error.hidden) check();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = check();
    if (name === null) {
      error.hidden = false;
      input.focus();
      return;
    }
    location.assign(boardHref(name));
  });
  $("random-board").addEventListener("click", () => location.assign(boardHref(`board-${randomToken(6)}`)));
  input.focus();
}

function link(name, meta, testid) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "board-link", href: boardHref(name), "data-testid": testid },
      h("span", { class: "board-link-name", text: name }),
      h("span", { class: "board-link-meta", text: meta }),
    ),
  );
}

/** Boards this browser visited, newest first. */
function showRecent(counts = new Map()) {
  const mine = loadRecent().filter((b) => BOARD_RE.test(b));
  if (mine.length === 0) return;
  $("recent-state").hidden = true;
  $("recent-list").replaceChildren(
    ...mine.map((name) => {
      const n = counts.get(name);
      return link(name, n === undefined ? "visited" : `${n} note${n === 1 ? "" : "s"} · visited`, "recent-link");
    }),
  );
}

let tokenDialog = null;

async function loadBoards() {
  const section = $("all-boards");
  const state = $("boards-state");
  const token = loadToken(location.origin);
  let boards;
  try {
    const res = await fetch("/api/boards?limit=50", { headers: { accept: "application/json", ...bearer(token) } });
    if (res.status === 401 || (needsToken(res) && token)) {
      const body = await res.json().catch(() => null);
      section.hidden = false;
      askForToken(state, { status: res.status, message: body?.error?.message ?? null });
      return;
    }
    if (!res.ok) return; // listing is off (403): names are share links, nothing to show
    boards = await res.json();
  } catch {
    return; // the server's list is a bonus; the recent boards and the form still work
  }
  section.hidden = false;
  showRecent(new Map(boards.map((b) => [b.board, b.notes])));
  if (boards.length === 0) {
    state.textContent = "No boards with notes yet.";
    return;
  }
  state.hidden = true;
  $("board-list").replaceChildren(
    ...boards.map((b) => link(b.board, `${b.notes} note${b.notes === 1 ? "" : "s"}`, "board-link")),
  );
}

/** The server refused the listing: say why, with a button that opens the token dialog. */
function askForToken(state, problem) {
  const button = h("button", { type: "button", class: "link-btn", "data-testid": "enter-token" }, "Enter a token");
  state.replaceChildren("This server needs an access token to list its boards. ", button);
  button.addEventListener("click", async () => {
    tokenDialog ??= new TokenDialog();
    const token = await tokenDialog.ask(problem);
    if (token === null) return;
    saveToken(location.origin, token);
    state.textContent = "Loading…";
    loadBoards();
  });
}

const fromAddress = takeFragmentToken(window);
if (fromAddress) saveToken(location.origin, fromAddress);
wireForm();
showRecent();
loadBoards();
