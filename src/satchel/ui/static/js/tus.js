// Resumable uploads (tus 1.0) for big files: sent in pieces; a dropped connection is resumed
// from the offset the server confirms, and a reloaded page resumes an upload it started
// (its URL is remembered per file in local storage).

import { ApiError, authHeaders, send } from "./api.js";

const PIECE = 4 * 1024 * 1024;
const TUS = { "Tus-Resumable": "1.0.0" };

function b64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary);
}

async function head(url) {
  const response = await fetch(url, { method: "HEAD", headers: authHeaders(TUS), cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, "the upload is gone");
  return {
    offset: Number(response.headers.get("Upload-Offset")),
    artifact: response.headers.get("Satchel-Artifact-Id"),
  };
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export async function tusUpload(file, { filename, scope, onProgress, piece = PIECE }) {
  const key = `satchel.tus:${filename}:${scope}:${file.size}:${file.lastModified}`;
  let url = localStorage.getItem(key);
  let offset = 0;
  let artifact = null;
  if (url) {
    try { ({ offset, artifact } = await head(url)); } catch { url = null; }
  }
  if (!url) {
    const metadata = [["filename", filename], ["scope", scope], ["mime", file.type || ""]]
      .filter(([, value]) => value).map(([k, v]) => `${k} ${b64(v)}`).join(",");
    const made = await send("POST", "/v1/tus/", {
      headers: { ...TUS, "Upload-Length": String(file.size), "Upload-Metadata": metadata },
    });
    url = new URL(made.headers.getResponseHeader("Location"), location.href).href;
    artifact = made.headers.getResponseHeader("Satchel-Artifact-Id");
    localStorage.setItem(key, url);
  }
  let failures = 0;
  onProgress(offset);
  while (offset < file.size) {
    const start = offset;
    try {
      const answer = await send("PATCH", url, {
        body: file.slice(start, start + piece),
        headers: { ...TUS, "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" },
        onProgress: (sent) => onProgress(start + sent),
      });
      offset = Number(answer.headers.getResponseHeader("Upload-Offset"));
      artifact = answer.headers.getResponseHeader("Satchel-Artifact-Id") || artifact;
      failures = 0;
    } catch (err) {
      const retryable = err.status === 0 || err.status === 409 || err.status >= 500;
      failures += 1;
      if (!retryable || failures > 8) throw err;
      await sleep(Math.min(250 * 2 ** failures, 8000));
      ({ offset } = await head(url)); // where the server says it stands
    }
    onProgress(offset);
  }
  localStorage.removeItem(key);
  return artifact;
}
