// Webhooks (admins): subscriptions and how delivery stands, a test button, pause and resume,
// and dead letters with a redeliver button.

import { api, path, query } from "./api.js";
import { errorBox } from "./errors.js";
import { h, mount, toast, when } from "./dom.js";

export async function webhooks(root) {
  const problem = h("div");
  const list = h("div", { class: "stack", id: "webhooks" });
  mount(root, h("h1", {}, "Webhooks"), problem,
    h("p", { class: "muted" }, "Subscriptions are added with ", h("code", {}, "satchel webhooks add"), " or the API."),
    list);
  await show(list, problem);
}

async function show(list, problem) {
  const found = await api("/v1/admin/webhooks");
  mount(list, found.webhooks.length ? found.webhooks.map((hook) => card(hook, list, problem))
    : h("p", { class: "muted" }, "No subscriptions."));
}

function card(hook, list, problem) {
  const status = hook.status || {};
  const letters = h("div", { class: "letters" });
  const act = (work) => async () => {
    mount(problem);
    try { await work(); await show(list, problem); } catch (err) { mount(problem, errorBox(err)); }
  };
  const section = h("section", { class: "card stack", dataset: { webhook: hook.webhook_id } },
    h("h2", {}, hook.url),
    h("dl", { class: "meta" },
      [["Id", hook.webhook_id], ["Types", hook.types.join(", ") || "all"], ["State", hook.active ? "active" : "paused"],
        ["Cursor", status.cursor], ["Delivered", status.delivered], ["Failed", status.failed], ["Dead letters", status.dead],
        ["Last attempt", when(status.last_attempt_at) || "—"], ["Last error", status.last_error || "—"]]
        .map(([label, value]) => [h("dt", {}, label), h("dd", {}, String(value ?? ""))])),
    h("div", { class: "row" },
      h("button", { type: "button", class: "test", onclick: async () => {
        mount(problem);
        try {
          const result = await api(path`/v1/admin/webhooks/${hook.webhook_id}/test`, { method: "POST" });
          toast(result.delivered ? `Test delivered (HTTP ${result.status})` : `Test failed: ${result.error}`);
          mount(section.querySelector(".test-result"), result.delivered ? `delivered (HTTP ${result.status})` : `failed: ${result.error}`);
        } catch (err) { mount(problem, errorBox(err)); }
      } }, "Send a test"),
      h("span", { class: "test-result muted" }),
      h("button", { type: "button", onclick: act(() => api(path`/v1/admin/webhooks/${hook.webhook_id}`,
        { method: "PATCH", json: { active: !hook.active } })) }, hook.active ? "Pause" : "Resume")),
    h("h3", {}, "Dead letters"), letters);
  api(path`/v1/admin/webhooks/${hook.webhook_id}/dead-letters` + query({ pending: true })).then((page) => {
    mount(letters, page.dead_letters.length ? h("ul", {}, page.dead_letters.map((letter) => h("li", { dataset: { seq: letter.seq } },
      `event ${letter.seq}: ${letter.attempts} attempts, ${letter.last_error || `HTTP ${letter.last_status}`} `,
      h("button", { type: "button", class: "redeliver", onclick: act(async () => {
        const done = await api(path`/v1/admin/webhooks/${hook.webhook_id}/dead-letters/${letter.seq}/redeliver`, { method: "POST" });
        toast(done.redelivered_at ? `Event ${letter.seq} redelivered` : `Still failing: ${done.last_error}`);
      }) }, "Redeliver")))) : h("p", { class: "muted" }, "None."));
  }).catch((err) => mount(letters, errorBox(err)));
  return section;
}
