// The HTTP API as the UI calls it: the token from this tab's session storage in an
// Authorization header (never in a URL), JSON in and out, errors as ApiError.

const TOKEN = "satchel.token";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  set(token) { sessionStorage.setItem(TOKEN, token); },
  clear() { sessionStorage.removeItem(TOKEN); },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function authHeaders(extra = {}) {
  const headers = new Headers(extra);
  if (session.token) headers.set("Authorization", `Bearer ${session.token}`);
  return headers;
}

async function failure(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    code = body.error || code;
    message = body.message || message;
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, code, message);
}

export async function api(path, { method = "GET", json, body, headers = {}, raw = false, signal } = {}) {
  const sent = authHeaders(headers);
  if (json !== undefined) {
    sent.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }
  if (!sent.has("Accept")) sent.set("Accept", "application/json");
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body, signal, cache: "no-store" });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "unreachable", `Satchel did not answer (${err.message})`);
  }
  if (!response.ok) throw await failure(response);
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export function query(params) {
  const found = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") found.set(key, String(value));
  }
  const text = found.toString();
  return text ? `?${text}` : "";
}

export const path = (strings, ...values) =>
  strings.reduce((out, part, i) => out + part + (i < values.length ? encodeURIComponent(values[i]) : ""), "");

// One request with upload progress (fetch has none): resolves to the parsed answer.
export function send(method, url, { body, headers = {}, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    authHeaders(headers).forEach((value, key) => xhr.setRequestHeader(key, value));
    xhr.upload.onprogress = (event) => onProgress && onProgress(event.loaded);
    xhr.onload = () => {
      const text = xhr.responseText;
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ status: xhr.status, headers: xhr, body: text ? safeJson(text) : null });
        return;
      }
      const parsed = safeJson(text) || {};
      reject(new ApiError(xhr.status, parsed.error || `http_${xhr.status}`, parsed.message || xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, "unreachable", "the connection failed"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "the upload was stopped"));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}
