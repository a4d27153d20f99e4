// Seeing each other on the board (issue #21): who edits which note ("Ann is editing", in Ann's colour), the
// notes others have selected (outlined in their colour), everyone's initial and colour beside the presence
// badge, and following someone's view (their pan and zoom) until you move yourself or press Escape. It
// also reports this page's own awareness (cursor, editing, selected, view) through peers.js' sender.
// Names go in as textContent; colours are the server's #rrggbb (peers.js checks them).

import { h, initials } from "./ui.js";

const VIEW_EVERY_MS = 200; // the own view is reported on scroll/zoom, at most this often

export class PeerView {
  /**
   * @param {object} parts
   * @param {import("./peers.js").Peers} parts.peers
   * @param {import("./peers.js").AwarenessSender} parts.sender
   * @param {import("./board.js").BoardView} parts.view
   * @param {import("./notes.js").NoteStore} parts.store
   * @param {HTMLElement} parts.list where everyone's initial goes (buttons that follow)
   * @param {HTMLElement} parts.banner the "following" notice
   */
  constructor({ peers, sender, view, store, list, banner }) {
    this.peers = peers;
    this.sender = sender;
    this.view = view;
    this.store = store;
    this.list = list;
    this.banner = banner;
    /** @type {Map<number, HTMLElement>} note id -> its "is editing" badge */
    this._badges = new Map();
    /** @type {Map<number, HTMLElement>} note id -> the note element outlined for a peer's selection */
    this._outlined = new Map();
    /** @type {string | null} the peer being followed */
    this.following = null;
    this._applyingFollow = false;
    this._viewTimer = null;
    this._marksFrame = null; // the animation frame that redraws the note marks, while one is pending
    /** @type {{left: number, top: number} | null} where following scrolled the board last */
    this._followedTo = null;

    peers.subscribe((changed) => this._changed(changed));
    store.subscribe((change) => {
      // A note may get its id (its create acknowledged) while it has the focus: the selection changes too.
      if (change.type === "upsert" || change.type === "synced" || change.type === "remove") this._scheduleMarks();
    });
    view.editWarning = (entry) => this._editWarning(entry);
    view.onEditing = (entry) => sender.set({ editing: entry?.id ?? null });
    view.onSelection = () => this._reportSelection();
    this._watchOwnInput();
  }

  // -- what others do ------------------------------------------------------------------------------------

  /** @private @param {Set<string>} changed */
  _changed(changed) {
    this._scheduleMarks();
    this._showList();
    if (this.following !== null && changed.has(this.following)) this._follow();
  }

  /** Note marks are redrawn once per animation frame at most. @private */
  _scheduleMarks() {
    if (this._marksFrame) return;
    this._marksFrame = requestAnimationFrame(() => {
      this._marksFrame = null;
      this._drawMarks();
      this._reportSelection();
    });
  }

  /** @private */
  _drawMarks() {
    /** @type {Map<number, import("./peers.js").Peer[]>} */
    const editors = new Map();
    /** @type {Map<number, import("./peers.js").Peer>} */
    const selected = new Map();
    for (const peer of this.peers.byId.values()) {
      if (peer.editing !== null) editors.set(peer.editing, [...(editors.get(peer.editing) ?? []), peer]);
      for (const id of peer.selected) if (!selected.has(id)) selected.set(id, peer);
    }
    for (const [id, badge] of this._badges) {
      if (!editors.has(id) || !badge.isConnected) {
        badge.remove();
        this._badges.delete(id);
      }
    }
    for (const [id, peersEditing] of editors) {
      const el = this._element(id);
      if (el === undefined) continue;
      let badge = this._badges.get(id);
      if (badge === undefined || badge.parentElement !== el) {
        badge?.remove();
        badge = h("div", { class: "note-peer-editing", "data-testid": "peer-editing", role: "status" });
        el.append(badge);
        this._badges.set(id, badge);
      }
      const names = peersEditing.map((p) => p.name);
      badge.textContent = `${names.join(", ")} ${names.length === 1 ? "is" : "are"} editing`;
      badge.style.setProperty("--peer", peersEditing[0].color);
    }
    for (const [id, el] of this._outlined) {
      if (!selected.has(id) || this._element(id) !== el) {
        el.classList.remove("peer-selected");
        el.style.removeProperty("--peer-selected");
        delete el.dataset.selectedBy;
        this._outlined.delete(id);
      }
    }
    for (const [id, peer] of selected) {
      const el = this._element(id);
      if (el === undefined) continue;
      el.classList.add("peer-selected");
      el.style.setProperty("--peer-selected", peer.color);
      el.dataset.selectedBy = peer.name;
      this._outlined.set(id, el);
    }
  }

  /** @private @param {number} id */
  _element(id) {
    const entry = this.store.byId.get(id);
    return entry === undefined ? undefined : this.view.elements.get(entry.key);
  }

  /** Before editing a note someone else edits: the words of the warning, or null. @private */
  _editWarning(entry) {
    // Typed together (textsync.js), two editors merge: "is editing" stays as a sign, not as a question.
    if (entry.id === null || this.view.shareText !== null) return null;
    const others = this.peers.editing(entry.id);
    if (others.length === 0) return null;
    const who = others.map((p) => p.name).join(", ");
    return `${who} ${others.length === 1 ? "is" : "are"} editing this note. If you both save, the second save meets a conflict. Edit it anyway?`;
  }

  // -- everyone's initial, and following -----------------------------------------------------------------

  /** @private */
  _showList() {
    const buttons = [];
    for (const peer of this.peers.byId.values()) {
      const on = this.following === peer.peer;
      const button = h(
        "button",
        {
          class: "peer-avatar",
          type: "button",
          "data-testid": "peer-avatar",
          "data-peer": peer.peer,
          "aria-pressed": on ? "true" : "false",
          "aria-label": on ? `Stop following ${peer.name}` : `Follow ${peer.name}`,
          title: on ? `Following ${peer.name} (Esc to stop)` : `${peer.name}: click to follow their view`,
        },
        initials(peer.name),
      );
      button.style.setProperty("--peer", peer.color);
      button.addEventListener("click", () => (on ? this.stopFollowing() : this.follow(peer.peer)));
      buttons.push(button);
    }
    this.list.replaceChildren(...buttons);
    this.list.hidden = buttons.length === 0;
  }

  /** Follow a peer's view (their pan and zoom) until this page moves by itself or Escape. @param {string} id */
  follow(id) {
    if (!this.peers.byId.has(id)) return;
    this.following = id;
    this._follow();
    this._showList();
  }

  stopFollowing() {
    if (this.following === null) return;
    this.following = null;
    this.banner.hidden = true;
    this._showList();
  }

  /** @private */
  _follow() {
    const peer = this.following === null ? undefined : this.peers.byId.get(this.following);
    if (peer === undefined) return this.stopFollowing(); // they left
    this.banner.hidden = false;
    this.banner.textContent = `Following ${peer.name}: move or press Esc to stop`;
    this.banner.style.setProperty("--peer", peer.color);
    if (peer.view === null) return;
    const { viewport, scroller } = this.view;
    const zoom = Math.min(scroller.clientWidth / peer.view.w, scroller.clientHeight / peer.view.h);
    this._applyingFollow = true;
    viewport.setZoom(zoom, { x: peer.view.x + peer.view.w / 2, y: peer.view.y + peer.view.h / 2 });
    this._applyingFollow = false;
    // The scroll events of this move arrive later: a scroll to exactly here is ours, not the user moving.
    this._followedTo = { left: scroller.scrollLeft, top: scroller.scrollTop };
  }

  /** Was this scroll the user's own (not the follow's)? @private */
  _userScrolled() {
    const at = this._followedTo;
    const { scrollLeft, scrollTop } = this.view.scroller;
    return at === null || Math.abs(scrollLeft - at.left) > 1 || Math.abs(scrollTop - at.top) > 1;
  }

  // -- what this page does -------------------------------------------------------------------------------

  /** @private */
  _watchOwnInput() {
    const { scroller, viewport, canvas } = this.view;
    scroller.addEventListener("pointermove", (ev) => {
      const { x, y } = viewport.point(ev);
      this.sender.set({ cursor: { x: Math.round(x), y: Math.round(y) } });
    });
    scroller.addEventListener("pointerleave", () => this.sender.set({ cursor: null }));
    canvas.addEventListener("focusin", () => this._reportSelection());
    canvas.addEventListener("focusout", () => queueMicrotask(() => this._reportSelection()));
    const moved = () => {
      this._reportView();
      if (this.following !== null && this._userScrolled()) this.stopFollowing();
    };
    scroller.addEventListener("scroll", moved, { passive: true });
    scroller.addEventListener("wheel", () => this.stopFollowing(), { passive: true });
    scroller.addEventListener("pointerdown", () => this.stopFollowing());
    viewport.subscribe(() => {
      this._reportView();
      if (!this._applyingFollow) this.stopFollowing();
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.following !== null) this.stopFollowing();
    });
    window.addEventListener("resize", () => this._reportView());
    this._reportView();
  }

  /** This page's selection (selection.js), or else the focused note. @private */
  _reportSelection() {
    const selected = this.view.selecting.entries();
    const focused = this.view.focusedEntry();
    const entries = selected.length > 0 ? selected : focused !== null ? [focused] : [];
    const ids = entries.map((e) => e.id).filter((id) => id !== null);
    this.sender.set({ selected: ids.slice(0, 1000) }); // the contract's bound
  }

  /** @private */
  _reportView() {
    if (this._viewTimer !== null) return;
    this._viewTimer = setTimeout(() => {
      this._viewTimer = null;
      const v = this.view.viewport.visible();
      if (!(v.width > 0 && v.height > 0)) return;
      const round = (n) => Math.round(n);
      this.sender.set({ view: { x: round(v.left), y: round(v.top), w: round(v.width), h: round(v.height) } });
    }, VIEW_EVERY_MS);
  }
}
