// GET requests of the page's REST reads (history, versions, the board at a seq) with the page's token. The
// error a caller shows is the server's own message when it sent one (the contract's error body).

import { bearer } from "./auth.js";

export class RestError extends Error {
  /** @param {string} message @param {number} status @param {string} code */
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The JSON answer of `GET path` (with query `params`), or a RestError.
 * @param {string} path
 * @param {Record<string, string | number>} params
 * @param {string} token the access token ("" for none)
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function getJSON(path, params, token, signal) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = query.size > 0 ? `${path}?${query}` : path;
  let res;
  try {
    res = await fetch(url, { headers: { accept: "application/json", ...bearer(token) }, signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new RestError("the server cannot be reached", 0, "unavailable");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's error page)
  }
  if (!res.ok) {
    const error = body?.error;
    throw new RestError(error?.message ?? `HTTP ${res.status}`, res.status, error?.code ?? "unavailable");
  }
  return body;
}

/** `/api/boards/{board}` with the name encoded. @param {string} board */
export function boardPath(board) {
  return `/api/boards/${encodeURIComponent(board)}`;
}
