// The header's connection pill (state, unsent changes, next retry, "Retry now") and the presence badge (who is
// online), each fed by the board socket's events.

import { State } from "./constants.js";
import { byId as $, h, hueOf, initials } from "./ui.js";

const STATUS_LABELS = {
  [State.CONNECTING]: "Connecting…",
  [State.CONNECTED]: "Connected",
  [State.RECONNECTING]: "Reconnecting…",
  [State.OFFLINE]: "Offline",
  [State.CLOSED]: "Disconnected",
};

/** The connection indicator: state, unsent changes, countdown to the next attempt. */
export class StatusView {
  /** @param {import("./socket.js").BoardSocket} socket */
  constructor(socket) {
    this.el = $("status");
    this.label = $("status-label");
    this.detail = $("status-detail");
    this.retry = $("retry-now");
    this.status = socket.status();
    this.ticker = null;
    this.retry.addEventListener("click", () => socket.retryNow());
    this.update(this.status);
  }

  update(status) {
    this.status = status;
    this.el.dataset.state = status.state;
    document.body.dataset.connection = status.state; // lets notes say "saving…" or "not sent yet"
    this.el.dataset.pending = String(status.pending);
    this.label.textContent = STATUS_LABELS[status.state] ?? status.state;
    const waiting = status.state !== State.CONNECTED && status.state !== State.CONNECTING;
    this.retry.hidden = !waiting || status.state === State.CLOSED;
    this._detail();
    if (status.retryAt !== null && this.ticker === null) {
      this.ticker = setInterval(() => this._detail(), 1000);
    } else if (status.retryAt === null && this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    this.el.title = status.reason ? `Last disconnect: ${status.reason}` : "";
  }

  _detail() {
    const { pending, retryAt, state } = this.status;
    const parts = [];
    if (pending > 0 && state !== State.CONNECTED) parts.push(`${pending} unsent`);
    else if (pending > 0) parts.push("saving…");
    if (retryAt !== null) {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      if (seconds > 0) parts.push(`retry in ${seconds}s`);
    }
    this.detail.textContent = parts.join(" · ");
    this.detail.hidden = parts.length === 0;
  }
}

/** The presence badge: how many connections, and the names of those who set one. */
export class PresenceView {
  constructor() {
    this.names = [];
    this.count = 1;
    this.live = false;
  }

  /** Offline, the last count is not true any more: the badge says so instead of showing it. */
  connected(live) {
    if (live === this.live) return;
    this.live = live;
    this._show();
  }

  /** @param {{count: number, names: string[] | null}} presence (names is null in a snapshot) */
  update({ count, names }) {
    if (names !== null) this.names = names;
    this.count = count;
    this._show();
  }

  _show() {
    const { count, live } = this;
    const el = $("presence");
    el.dataset.live = String(live);
    $("presence-count").textContent = live ? String(count) : "–";
    $("presence-label").textContent = live ? "online" : "not connected";
    el.dataset.count = live ? String(count) : "";
    if (!live) {
      $("presence-avatars").replaceChildren();
      $("presence-names").textContent = "";
      el.title = "Not connected: who is online is not known";
      return;
    }
    const shown = this.names.slice(0, 3);
    $("presence-avatars").replaceChildren(
      ...shown.map((n) => h("span", { class: "avatar", style: `--hue:${hueOf(n)}`, title: n }, initials(n))),
    );
    $("presence-names").textContent = this.names.join(", ");
    const others = count - this.names.length;
    $("presence").title =
      this.names.length === 0
        ? `${count} connected`
        : `${this.names.join(", ")}${others > 0 ? ` and ${others} more connection${others === 1 ? "" : "s"}` : ""}`;
  }
}
