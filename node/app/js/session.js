// Who is using the app: this phone's key, the member it belongs to, the consortium's members
// and the ledger, kept on the phone so the app can sign while offline.

import { createDeviceKey, deviceKey, keep, memberOfKey, read } from "./device.js";
import { Unreachable, nodeTime, read as readNode } from "./api.js";
import { signStatement, statement } from "./signing.js";
import { drain, entry as outboxEntry, queue } from "./outbox.js";

export const session = {
  device: null, // {keyPair, publicHex, created}
  member: null, // the member whose key this is, or null before enrolment
  revoked: false,
  members: [],
  ledger: null, // the ledger id statements name
  online: navigator.onLine,
};

/**
 * Loads what the phone kept. An enrolled phone starts from it at once and refreshes it from the
 * node in the background (`onRefreshed` is called if who this phone signs for changed): a slow
 * network must not hold the first screen. A phone waiting to be enrolled asks the node first.
 */
export async function startSession(onRefreshed) {
  const [device, members, ledger] = await Promise.all([deviceKey(), read("members"), read("ledger")]);
  session.device = device;
  session.members = members ?? [];
  session.ledger = ledger ?? null;
  identify();
  const before = who();
  const refreshed = refresh().then(
    () => {
      if (who() !== before) onRefreshed();
    },
    () => {},
  );
  if (session.device && (!session.member || !session.ledger)) await refreshed;
  return session;
}

function who() {
  return `${session.member ? session.member.id : ""}/${session.revoked}`;
}

/** Makes this phone's key. */
export async function enrolDevice() {
  session.device = await createDeviceKey();
  identify();
  return session.device;
}

/** Reads the ledger's id and members again; throws Unreachable offline. */
export async function refresh() {
  const [status, members] = await Promise.all([readNode("/v1/status"), readNode("/v1/members")]);
  if (status && status.ledger_id) {
    session.ledger = status.ledger_id;
    await keep("ledger", session.ledger);
  }
  session.members = members || [];
  await keep("members", session.members);
  session.online = true;
  identify();
}

function identify() {
  if (!session.device) {
    session.member = null;
    session.revoked = false;
    return;
  }
  const { member, revoked } = memberOfKey(session.members, session.device.publicHex);
  session.member = member;
  session.revoked = revoked;
}

/** The member with `id`, if the phone knows it. */
export function memberNamed(id) {
  return session.members.find((member) => member.id === id) || null;
}

/**
 * Signs a statement of `kind` with this phone's key, now (the node's time as the app knows
 * it), queues it and tries to submit it. Resolves with `{id, record}`: the outbox entry, with
 * its outcome if the node answered.
 */
export async function signAndSubmit(kind, body, summary) {
  if (!session.device || !session.ledger) throw new Error("this phone has no key or does not know the ledger yet");
  const entry = await signStatement(session.device, statement(session.ledger, kind, nodeTime(), body));
  const id = await queue(entry, { kind, giai: body.giai || body.id || "", text: summary });
  await drain().catch((error) => {
    if (!(error instanceof Unreachable)) throw error;
  });
  return { id, record: await outboxEntry(id) };
}

/** Remembers the last view of an item, so its screen opens offline. */
export async function keepItem(giai, view) {
  const items = (await read("items")) ?? {};
  delete items[giai];
  items[giai] = view;
  const names = Object.keys(items);
  // Keep the 200 most recently viewed items, no more.
  for (const old of names.slice(0, Math.max(0, names.length - 200))) delete items[old];
  await keep("items", items);
}

/** The last view of an item kept on the phone, or null. */
export async function keptItem(giai) {
  const items = (await read("items")) ?? {};
  return items[giai] ?? null;
}
