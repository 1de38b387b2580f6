// The node's API as the app uses it: public reads, members' signed reads and uploads, and
// submissions. Every answer's `Date` header keeps the app's idea of the node's clock, because a
// phone's clock drifts and the node refuses signed requests more than 60 s off (auth.stale).

import { requestHeaders } from "./signing.js";

/** The phone could not reach the node (no network, or the node is down). */
export class Unreachable extends Error {}

/** The node answered with an error: `{status, code, message, details}`. */
export class Refused extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http.error";
    this.details = error.details || [];
  }
}

let clockSkew = 0; // node's clock − phone's clock, in ms

/** The node's time as well as the app knows it. */
export function nodeTime() {
  return new Date(Date.now() + clockSkew);
}

async function call(url, init) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", ...init });
  } catch (error) {
    throw new Unreachable(String(error));
  }
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) clockSkew = date - Date.now();
  return response;
}

async function answer(response) {
  const text = await response.text();
  let value = null;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    value = null;
  }
  if (!response.ok && response.status !== 207) {
    throw new Refused(response.status, (value && value.error) || { message: `HTTP ${response.status}` });
  }
  return value;
}

const here = (path) => new URL(path, location.origin);

/** GET a public JSON resource. */
export async function read(path) {
  return answer(await call(here(path), { headers: { Accept: "application/json" } }));
}

/** GET a resource only a member may read, signed by this phone's key. */
export async function signedRead(device, path) {
  const url = here(path);
  const headers = await requestHeaders(device, "GET", url, Math.floor(nodeTime().getTime() / 1000));
  return answer(await call(url, { headers: { Accept: "application/json", ...headers } }));
}

/** Uploads a file (a photo) signed by this phone's key; resolves with `{blake3, size, media_type}`. */
export async function upload(device, blob) {
  const url = here("/v1/attachments");
  const headers = await requestHeaders(device, "POST", url, Math.floor(nodeTime().getTime() / 1000));
  return answer(await call(url, { method: "POST", body: blob, headers: { "Content-Type": blob.type, ...headers } }));
}

/** POSTs a JSON value to a public route (the passport check). */
export async function post(path, value) {
  return answer(await call(here(path), { method: "POST", body: JSON.stringify(value), headers: { "Content-Type": "application/json" } }));
}

/** Submits one signed entry: resolves with its receipt, throws Refused or Unreachable. */
export async function submit(entry) {
  return answer(
    await call(here("/v1/entries"), { method: "POST", body: JSON.stringify(entry), headers: { "Content-Type": "application/json" } }),
  );
}
