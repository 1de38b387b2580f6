// This phone's signing key and what the app keeps on it, in IndexedDB.
//
// The key is an Ed25519 key pair made by WebCrypto with extractable = false: the private key
// can sign but its bytes can never be read, not even by this app, so it never leaves the
// phone. IndexedDB keeps the CryptoKey objects themselves (structured clone), not bytes.

const DATABASE = "salvage-app";
const VERSION = 1;

let opened = null;

/** The app's database: `device` (the key, the member, cached reads) and `outbox` (entries). */
export function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("device")) db.createObjectStore("device");
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

/** Runs `work(store)` in a transaction on `name`; resolves with what its last request gave. */
export async function inStore(name, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(name, mode);
    let result;
    const request = work(transaction.objectStore(name));
    if (request) request.onsuccess = () => (result = request.result);
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const read = (key) => inStore("device", "readonly", (store) => store.get(key));
export const keep = (key, value) => inStore("device", "readwrite", (store) => store.put(value, key));

/** This phone's key: `{keyPair, publicHex, created}`, or null before one is made. */
export async function deviceKey() {
  return (await read("key")) ?? null;
}

/** Makes this phone's key (once) and asks the browser to keep the app's storage. */
export async function createDeviceKey() {
  const existing = await deviceKey();
  if (existing) return existing;
  const keyPair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keyPair.publicKey));
  const device = { keyPair, publicHex: hex(raw), created: new Date().toISOString() };
  await keep("key", device);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  return device;
}

/** The key in groups of four, the first 16 digits: what a person compares on two screens. */
export function shortCode(publicHex) {
  return publicHex.slice(0, 16).match(/.{4}/g).join(" ");
}

export function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The member this key belongs to, from the consortium's members: `{member, revoked}` with
 * `member` null when no member has added the key yet.
 */
export function memberOfKey(members, publicHex) {
  for (const member of members) {
    const key = member.keys && member.keys[publicHex];
    if (key) return { member, revoked: key.revoked !== undefined && key.revoked !== null };
  }
  return { member: null, revoked: false };
}
