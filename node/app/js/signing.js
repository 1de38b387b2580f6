// Signing, exactly as the `salvage` CLI signs (docs/format.md §2), and members' signed requests
// (RFC 9421 HTTP Message Signatures, the profile of node/src/member_auth.rs).

import { canonicalize } from "./canonical.js";
import { hex } from "./device.js";

/** The 18 bytes every signed message starts with (docs/format.md §2). */
export const DOMAIN = "salvage-ledger/v1\n";

/** An RFC 3339 UTC time as the ledger spells it: `YYYY-MM-DDTHH:MM:SSZ`. */
export function rfc3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The message a statement's signature covers: DOMAIN ‖ JCS(statement), as UTF-8. */
export function signedMessage(statement) {
  return new TextEncoder().encode(DOMAIN + canonicalize(statement, { ledger: true }));
}

/** A signed entry `{statement, signatures: [{key, sig}]}` of `statement` by this phone's key. */
export async function signStatement(device, statement) {
  const signature = await crypto.subtle.sign("Ed25519", device.keyPair.privateKey, signedMessage(statement));
  return { statement, signatures: [{ key: device.publicHex, sig: hex(new Uint8Array(signature)) }] };
}

/** A statement of `kind` on `ledger` at `time`: the four fields §2 allows, no more. */
export function statement(ledger, kind, time, body) {
  return { ledger, kind, time: rfc3339(time), body };
}

// RFC 8941 sf-string: quotes and backslashes escaped.
const sfString = (text) => `"${text.replace(/[\\"]/g, "\\$&")}"`;

/**
 * The headers of a member's signed request (RFC 9421 §2.5, §3.3.6): `@method`, `@authority`,
 * `@path` and, when the URL has one, `@query` are covered. `url` must not end in a bare `?`
 * (URL.search cannot tell it from no query, the node can).
 */
export async function requestHeaders(device, method, url, createdSeconds) {
  const components = [["@method", method], ["@authority", url.host], ["@path", url.pathname || "/"]];
  if (url.search) components.push(["@query", url.search]);
  const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
  const parameters =
    `(${components.map(([name]) => sfString(name)).join(" ")});created=${createdSeconds};nonce=${sfString(nonce)}` +
    `;keyid=${sfString(device.publicHex)};alg="ed25519";tag="salvage-member/v1"`;
  const base = components.map(([name, value]) => `${sfString(name)}: ${value}\n`).join("") + `"@signature-params": ${parameters}`;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", device.keyPair.privateKey, new TextEncoder().encode(base)));
  return {
    "Signature-Input": `salvage=${parameters}`,
    Signature: `salvage=:${btoa(String.fromCharCode(...signature))}:`,
  };
}
