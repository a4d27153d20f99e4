// Small screens: the tools that do not fit in their bar move into a "More" menu (and back when there is
// room), so every action stays reachable at 360 px without anything cut off. The elements themselves move
// (with their ids, labels and listeners); a comment left in their place says where they come back to.

export class Overflow {
  /**
   * @param {HTMLDetailsElement} menu the "More" menu (hidden while it holds nothing)
   * @param {HTMLElement} pop where the moved tools go, in the menu
   * @param {{bar: HTMLElement, items: HTMLElement[]}[]} groups each bar with its tools, the first to leave first
   */
  constructor(menu, pop, groups) {
    this.menu = menu;
    this.pop = pop;
    this.groups = groups.map(({ bar, items }) => ({
      bar,
      items: items.map((el) => {
        const mark = document.createComment(`overflow: ${el.id || el.className}`);
        el.before(mark);
        return { el, mark };
      }),
    }));
    this._frame = null;
    // A tool used from the menu closes it (a submenu's own button, a <summary>, keeps it open).
    pop.addEventListener("click", (ev) => {
      if (!(/** @type {Element} */ (ev.target).closest("summary"))) menu.open = false;
    });
    const observer = new ResizeObserver(() => this.schedule());
    for (const { bar } of this.groups) observer.observe(bar);
    window.addEventListener("resize", () => this.schedule());
    this.fit();
  }

  /** Re-fit on the next animation frame (moving elements resizes the bars: once per frame at most). */
  schedule() {
    if (this._frame !== null) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = null;
      this.fit();
    });
  }

  /** Put every tool back, then move out the ones that do not fit, the first-listed first. */
  fit() {
    this.menu.open = false;
    for (const { items } of this.groups) for (const { el, mark } of items) if (el.parentElement === this.pop) mark.after(el);
    for (const { bar, items } of this.groups) {
      for (const { el } of items) {
        if (bar.scrollWidth <= bar.clientWidth + 1) break;
        this.pop.append(el);
      }
    }
    this.menu.hidden = this.pop.childElementCount === 0;
    // The menu's own button takes room too: check once more with it shown.
    for (const { bar, items } of this.groups) {
      for (const { el } of items) {
        if (el.parentElement === this.pop) continue;
        if (bar.scrollWidth <= bar.clientWidth + 1) break;
        this.pop.append(el);
      }
    }
  }
}
