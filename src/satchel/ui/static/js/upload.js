// Upload by file picker, folder picker or drag and drop: several files at once, each with its
// progress and the total; big files go through tus and survive a dropped connection.

import { path, query, send } from "./api.js";
import { errorTitle } from "./errors.js";
import { field, h, mount, size } from "./dom.js";
import { tusUpload } from "./tus.js";
import { principal } from "./state.js";

export const TUS_ABOVE = 8 * 1024 * 1024;
const PARALLEL = 2;

export function upload(root) {
  const who = principal();
  const scope = h("select", { name: "scope" }, ["user", "sandbox", "session"].map((value) =>
    h("option", { value, selected: value === (who && who.user_id && !who.admin ? "user" : "sandbox") }, value)));
  const prefix = h("input", { name: "prefix", placeholder: "reports/2026/", size: 24 });
  const files = h("input", { type: "file", multiple: true, id: "files", onchange: () => start([...files.files]) });
  const folder = h("input", { type: "file", id: "folder", webkitdirectory: true, onchange: () => start([...folder.files]) });
  const drop = h("div", { class: "drop", id: "drop", tabindex: 0 }, "Drop files or folders here");
  const rows = h("tbody");
  const total = h("progress", { id: "total", max: 1, value: 0 });
  const totalText = h("span", { class: "muted", id: "total-text" }, "");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    start(await dropped(event.dataTransfer));
  });
  mount(root, h("h1", {}, "Upload"),
    h("div", { class: "row card" }, field("Scope", scope), field("Name prefix", prefix),
      field("Files", files), field("A folder", folder)),
    drop,
    h("div", { class: "card stack" }, h("div", {}, "Total ", totalText), total,
      h("div", { class: "table-wrap" }, h("table", { class: "uploads" },
        h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", { class: "num" }, "Size"), h("th", {}, "Progress"))),
        rows))));

  const queue = [];
  let done = 0;
  let bytes = 0;
  let sent = 0;
  let running = 0;

  function start(list) {
    for (const file of list) {
      const name = prefix.value + (file.relativePath || file.webkitRelativePath || file.name);
      const bar = h("progress", { max: file.size || 1, value: 0 });
      const state = h("div", { class: "muted" }, "waiting");
      rows.append(h("tr", { dataset: { name } }, h("td", {}, name), h("td", { class: "num" }, size(file.size)), h("td", {}, bar, state)));
      queue.push({ file, name, bar, state, scope: scope.value, last: 0 });
      bytes += file.size;
    }
    total.max = bytes || 1;
    pump();
  }

  function account(item, value) {
    sent += value - item.last;
    item.last = value;
    item.bar.value = value;
    total.value = sent;
    totalText.textContent = `${size(sent)} of ${size(bytes)}, ${done} done`;
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      const item = queue.shift();
      running += 1;
      one(item).finally(() => { running -= 1; done += 1; account(item, item.last); pump(); });
    }
  }

  async function one(item) {
    item.state.textContent = "sending";
    try {
      let id;
      if (item.file.size > TUS_ABOVE) {
        id = await tusUpload(item.file, { filename: item.name, scope: item.scope, onProgress: (n) => account(item, n) });
      } else {
        const answer = await send("POST", `/v1/artifacts${query({ filename: item.name, scope: item.scope })}`, {
          body: item.file, headers: { "Content-Type": item.file.type || "application/octet-stream" },
          onProgress: (n) => account(item, n),
        });
        id = answer.body.artifact_id;
      }
      account(item, item.file.size);
      mount(item.state, h("a", { href: path`#/artifacts/${id}`, class: "done" }, "stored"));
    } catch (err) {
      mount(item.state, h("span", { class: "error-text", role: "alert" }, `${errorTitle(err)}: ${err.message}`));
    }
  }
}

async function dropped(transfer) {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...transfer.files];
  const found = [];
  async function walk(entry, at) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      file.relativePath = at + file.name;
      found.push(file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${at}${entry.name}/`);
      }
    }
  }
  for (const entry of entries) await walk(entry, "");
  return found;
}
