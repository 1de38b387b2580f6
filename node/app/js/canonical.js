// RFC 8785 JSON Canonicalization Scheme (JCS), as docs/format.md §1 applies it: the bytes a
// statement's signature covers. The Rust encoder (ledger/src/canonical/) and this one are held
// to the same reference vectors and compared on random statements by the browser tests.
//
// Only plain JSON values are accepted (null, booleans, finite numbers within ±(2^53−1), well-formed
// strings, arrays and plain objects): anything else throws, rather than being written the way
// JSON.stringify would (`undefined` left out, NaN as null, a Date through toJSON).

const LARGEST = Number.MAX_SAFE_INTEGER; // 2^53 − 1, the ledger's bound on every number (§1)

export class CanonicalError extends Error {}

/**
 * The canonical JSON text of `value` (RFC 8785). With `{ledger: true}`, numbers must also lie
 * within ±(2^53−1), the ledger's bound (docs/format.md §1; Rust's `canonical::check_numbers`).
 */
export function canonicalize(value, { ledger = false } = {}) {
  const out = [];
  write(value, "", out, ledger);
  return out.join("");
}

function write(value, at, out, ledger) {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalError(`${where(at)}: ${value} is not a JSON number`);
      if (ledger && Math.abs(value) > LARGEST) throw new CanonicalError(`${where(at)}: ${value} lies outside ±(2^53−1)`);
      // RFC 8785 §3.2.2.3 is ECMAScript's Number::toString; String(-0) is "0" as it asks.
      out.push(String(value));
      return;
    case "string":
      out.push(string(value, at));
      return;
    case "object":
      if (Array.isArray(value)) {
        out.push("[");
        value.forEach((element, index) => {
          if (index > 0) out.push(",");
          write(element, `${at}/${index}`, out, ledger);
        });
        out.push("]");
        return;
      }
      if (!isPlainObject(value)) throw new CanonicalError(`${where(at)}: only plain objects are JSON`);
      out.push("{");
      // Object.keys(...).sort() compares UTF-16 code units: exactly RFC 8785 §3.2.3.
      Object.keys(value)
        .sort()
        .forEach((key, index) => {
          const member = value[key];
          const path = `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
          if (member === undefined) throw new CanonicalError(`${where(path)}: undefined is not JSON`);
          if (index > 0) out.push(",");
          out.push(string(key, path), ":");
          write(member, path, out, ledger);
        });
      out.push("}");
      return;
    default:
      throw new CanonicalError(`${where(at)}: a ${typeof value} is not JSON`);
  }
}

// JSON.stringify escapes exactly what RFC 8785 §3.2.2.2 escapes (", \ and the C0 controls,
// with the short forms and lowercase \u00xx), once lone surrogates are ruled out.
function string(text, at) {
  if (!wellFormed(text)) throw new CanonicalError(`${where(at)}: the text holds a lone surrogate, which is not Unicode`);
  return JSON.stringify(text);
}

function wellFormed(text) {
  if (typeof text.isWellFormed === "function") return text.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function isPlainObject(value) {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function where(at) {
  return at === "" ? "the value" : `at ${at}`;
}
