// The outbox: every entry the phone signs goes here first, then to the node, in the order it
// was signed. Signed without a network, it waits in IndexedDB (with its original signing time,
// which is inside the signed statement) until the phone is back online. Each keeps its
// outcome: accepted with its receipt, or refused with the ledger's reason. Nothing is dropped:
// an entry leaves the outbox only when the person clears outcomes they have seen.

import { inStore } from "./device.js";
import { Refused, Unreachable, submit } from "./api.js";

const listeners = new Set();
let draining = null;

/** Calls `listener()` whenever an entry is queued or gets an outcome. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

/** Queues a signed entry with what the person should see of it; resolves with its outbox id. */
export async function queue(entry, summary) {
  const record = { entry, summary, state: "queued", queued: new Date().toISOString() };
  const id = await inStore("outbox", "readwrite", (store) => store.add(record));
  changed();
  return id;
}

/** Every entry in the outbox, oldest first. */
export async function entries() {
  return (await inStore("outbox", "readonly", (store) => store.getAll())) ?? [];
}

/** The entry with outbox id `id`. */
export async function entry(id) {
  return inStore("outbox", "readonly", (store) => store.get(id));
}

/** Forgets the entries whose outcome is known (accepted or refused). */
export async function clearSettled() {
  const settled = (await entries()).filter((record) => record.state !== "queued");
  await inStore("outbox", "readwrite", (store) => {
    let last = null;
    for (const record of settled) last = store.delete(record.id);
    return last;
  });
  changed();
}

/**
 * Submits the queued entries one at a time, oldest first, and records each outcome. Stops at
 * the first one the node cannot be reached for (or that it cannot take now: 429, 5xx), so a
 * later entry never overtakes an earlier one. Resolves with how many are still queued.
 */
export function drain() {
  if (!draining) {
    draining = drainOnce().finally(() => {
      draining = null;
    });
  }
  return draining;
}

async function drainOnce() {
  const queued = (await entries()).filter((record) => record.state === "queued");
  for (const [index, record] of queued.entries()) {
    try {
      const receipt = await submit(record.entry);
      await settle(record, { state: "accepted", receipt, settled: new Date().toISOString() });
    } catch (error) {
      if (error instanceof Refused && error.status < 500 && error.status !== 429 && error.status !== 408) {
        await settle(record, {
          state: "refused",
          refusal: { code: error.code, message: error.message },
          settled: new Date().toISOString(),
        });
      } else if (error instanceof Unreachable || error instanceof Refused) {
        return queued.length - index;
      } else {
        throw error;
      }
    }
  }
  return 0;
}

async function settle(record, outcome) {
  await inStore("outbox", "readwrite", (store) => store.put({ ...record, ...outcome }));
  changed();
}

/** Keeps draining when the phone comes back online, the app is shown again, or every 20 s. */
export function keepDraining() {
  const attempt = () => drain().catch(() => {});
  addEventListener("online", attempt);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") attempt();
  });
  setInterval(async () => {
    if ((await entries()).some((record) => record.state === "queued")) attempt();
  }, 20000);
  attempt();
}
