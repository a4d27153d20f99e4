// The board picker (/): boards with recent changes from GET /api/boards, and a field to open or create one.
// On a server that needs tokens the list is fetched with the saved one (Authorization: Bearer); without a
// working token the page says so and offers the token dialog.

import { bearer, loadToken, needsToken, saveToken, takeFragmentToken } from "./auth.js";
import { BOARD_RE } from "./constants.js";
import { loadRecent } from "./prefs.js";
import { randomToken } from "./push.js";
import { TokenDialog } from "./tokenview.js";
import { h } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** @param {string} board */
function boardHref(board) {
  return `/b/${encodeURIComponent(board)}`;
}

function wireForm() {
  const form = $("open-form");
  const input = $("board-input");
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

let tokenDialog = null;

async function loadBoards() {
  const state = $("boards-state");
  const list = $("board-list");
  const token = loadToken(location.origin);
  let boards;
  try {
    const res = await fetch("/api/boards?limit=50", { headers: { accept: "application/json", ...bearer(token) } });
    if (needsToken(res)) {
      const body = await res.json().catch(() => null);
      askForToken(state, { status: res.status, message: body?.error?.message ?? null });
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    boards = await res.json();
  } catch (err) {
    state.textContent = `Could not load the boards (${err.message}).`;
    return;
  }
  // Boards opened in this browser first (the server lists only boards with changes).
  const known = new Map(boards.map((b) => [b.board, b]));
  const mine = loadRecent().filter((b) => BOARD_RE.test(b));
  const order = [...mine, ...boards.map((b) => b.board).filter((b) => !mine.includes(b))];
  if (order.length === 0) {
    state.textContent = "No boards yet. Name one above to start.";
    return;
  }
  state.hidden = true;
  list.replaceChildren(
    ...order.map((name) => {
      const info = known.get(name);
      const meta = info === undefined ? "empty" : `${info.notes} note${info.notes === 1 ? "" : "s"}`;
      return h(
        "li",
        {},
        h(
          "a",
          { class: "board-link", href: boardHref(name), "data-testid": "board-link" },
          h("span", { class: "board-link-name", text: name }),
          h("span", { class: "board-link-meta", text: mine.includes(name) ? `${meta} · visited` : meta }),
        ),
      );
    }),
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
loadBoards();
