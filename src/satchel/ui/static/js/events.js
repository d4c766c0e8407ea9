// The event feed, live: what happened (that the caller may see), newest first, arriving as it
// happens (a long poll of GET /v1/events that ends when the page is left).

import { api, query } from "./api.js";
import { errorBox } from "./errors.js";
import { h, mount, when } from "./dom.js";
import { viewSignal } from "./state.js";

const SHOWN = 200;

export async function events(root, params) {
  const signal = viewSignal();
  const list = h("ol", { id: "feed", reversed: true });
  const status = h("p", { class: "muted", id: "feed-status" }, "Catching up…");
  const types = params.get("type") || "";
  mount(root, h("h1", {}, "Events"), status, h("div", { class: "card" }, list));
  let after = 0;
  let live = false;
  while (!signal.aborted) {
    let page;
    try {
      page = await api(`/v1/events${query({ after, type: types, limit: live ? 100 : 1000, wait: live ? 25 : 0, format: "json" })}`, { signal });
    } catch (err) {
      if (signal.aborted) return;
      mount(status, errorBox(err));
      await new Promise((resolve) => { setTimeout(resolve, 3000); });
      continue;
    }
    for (const event of page.events) list.prepend(item(event));
    while (list.children.length > SHOWN) list.lastChild.remove();
    after = page.next_after;
    if (!live && page.events.length < 1000) {
      live = true;
      status.textContent = "Live: new events appear at the top.";
    }
  }
}

function item(event) {
  const subject = event.subject ? h("span", { class: "mono" }, ` ${event.subject}`) : null;
  return h("li", { dataset: { seq: event.seq, type: event.type } },
    h("span", { class: "muted" }, `${when(event.time)} `), h("strong", {}, event.type), subject,
    event.actor ? h("span", { class: "muted" }, ` by ${event.actor}`) : null);
}
