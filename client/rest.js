// The page's REST calls outside the socket (history, versions, the board at a seq, the board session) with the
// page's token. The error a caller shows is the server's own message when it sent one (the contract's body).

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
  return (await requestJSON("GET", path, token, { params, signal })).data;
}

/**
 * A REST call with a JSON body (if any) and a JSON answer: `{data, res}` (the response for its headers), or
 * a RestError with the server's message.
 * @param {string} method
 * @param {string} path
 * @param {string} token the access token ("" for none)
 * @param {{params?: Record<string, string | number>, body?: unknown, signal?: AbortSignal}} [options]
 * @returns {Promise<{data: any, res: Response}>}
 */
export async function requestJSON(method, path, token, { params = {}, body, signal } = {}) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = query.size > 0 ? `${path}?${query}` : path;
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", ...bearer(token) };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new RestError("the server cannot be reached", 0, "unavailable");
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON (a proxy's error page)
  }
  if (!res.ok) {
    const error = data?.error;
    throw new RestError(error?.message ?? `HTTP ${res.status}`, res.status, error?.code ?? "unavailable");
  }
  return { data, res };
}

/** `/api/boards/{board}` with the name encoded. @param {string} board */
export function boardPath(board) {
  return `/api/boards/${encodeURIComponent(board)}`;
}
