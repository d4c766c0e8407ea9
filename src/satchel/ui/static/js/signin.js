// Sign in with a token or an API key; it stays in this tab only (session storage).

import { api, session } from "./api.js";
import { errorBox } from "./errors.js";
import { field, h, mount } from "./dom.js";

export async function signin(root, { notice } = {}) {
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true, size: 40 });
  const problem = h("div");
  const form = h("form", { class: "card stack", onsubmit: submit },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Paste a Satchel token or API key (",
      h("code", {}, "satchel keys create"), "). It is kept in this tab only."),
    field("Token", token),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    problem);
  mount(root, notice ? h("p", { class: "muted" }, notice) : null, form);
  token.focus();

  async function submit(event) {
    event.preventDefault();
    session.set(token.value.trim());
    try {
      await api("/v1/whoami");
    } catch (err) {
      session.clear();
      mount(problem, errorBox(err));
      return;
    }
    location.hash = "#/artifacts";
  }
}
