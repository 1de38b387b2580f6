// The passport form, generated from the passport JSON Schema the node enforces
// (schemas/passport.schema.json, served at /app/schema/passport.json): required fields first,
// optional groups folded away except the hazards, which are never hidden. The form only
// gathers values; the node's schema and rules judge them (POST /app/check/passport) and the
// problems are shown beside their fields, pointer by pointer.

import { has, language, t } from "./i18n.js";
import { button, field, fieldError, h } from "./ui.js";

/** Parts of the passport the register screen fills itself, or that the app does not offer. */
const HANDLED_ELSEWHERE = new Set(["identity", "photos", "documents", "restricted"]);
/** Optional groups shown open, because a buyer's safety depends on them. */
const NEVER_FOLDED = new Set(["hazards", "legal_status"]);
/** Where the locale has words for an enumeration's values. */
const ENUM_WORDS = { category: "category", unit: "unit", method: "method", grade: "grade", status: "legal" };

/** Builds the form; `initial` pre-fills it (an amendment). */
export function passportForm(schemas, initial = {}) {
  const resolve = (node) => resolveSchema(schemas, node);
  const wrappers = new Map();
  const root = objectControl(resolve(schemas.passport), "", initial, true, { resolve, wrappers, top: true });
  return {
    element: root.element,
    value: () => root.value() || {},
    /** Shows each problem beside the field its pointer names; returns those shown nowhere. */
    showProblems(problems) {
      for (const wrapper of wrappers.values()) if (wrapper.classList.contains("field")) fieldError(wrapper, "");
      const unplaced = [];
      for (const problem of problems) {
        const wrapper = nearest(wrappers, problem.pointer, problem.message);
        if (wrapper) fieldError(wrapper, problem.message);
        else unplaced.push(problem);
      }
      const first = [...wrappers.values()].find((wrapper) => wrapper.classList.contains("field") && !wrapper.querySelector(".error").hidden);
      first?.querySelector("input, select, textarea")?.focus();
      return unplaced;
    },
  };
}

function resolveSchema(schemas, node) {
  let resolved = node || {};
  for (let depth = 0; depth < 8 && resolved.$ref; depth += 1) {
    const [document, fragment] = resolved.$ref.split("#");
    const base = document.startsWith("common") || (!document && resolved.__common) ? schemas.common : schemas.passport;
    const target = fragment ? fragment.split("/").slice(1).reduce((value, step) => value && value[step], base) : base;
    const { $ref, ...rest } = resolved;
    resolved = { ...target, ...rest, __common: base === schemas.common };
  }
  if (resolved.allOf) {
    for (const part of resolved.allOf) {
      const merged = resolveSchema(schemas, { ...part, __common: resolved.__common });
      resolved = { ...merged, ...resolved, properties: { ...(merged.properties || {}), ...(resolved.properties || {}) } };
    }
  }
  return resolved;
}

function label(pointer, group = false) {
  const path = pointer.split("/").filter((step) => step && !/^\d+$/.test(step)).join(".");
  // Groups and fields have separate keys: TOML cannot make `materials` both a text and a table.
  const key = `app.${group ? "group" : "field"}.${path}`;
  if (has(key)) return t(key);
  const last = path.split(".").at(-1) || "";
  return last.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

function hint(schema) {
  // The schema's descriptions are English; other languages rely on their labels.
  return language().code === "en" ? schema.description : undefined;
}

function objectControl(schema, pointer, initial, required, context) {
  const required_ = new Set(schema.required || []);
  const names = Object.keys(schema.properties || {}).filter((name) => !HANDLED_ELSEWHERE.has(name));
  names.sort((a, b) => Number(required_.has(b)) - Number(required_.has(a)));
  const children = names.map((name) => {
    const child = context.resolve(schema.properties[name]);
    return [name, control(child, `${pointer}/${name}`, initial ? initial[name] : undefined, required_.has(name), context)];
  });
  const body = children.map(([, child]) => child.element);
  let element;
  if (context.top) element = h("div", { class: "passport" }, body);
  else if (required || NEVER_FOLDED.has(pointer.split("/").at(-1))) element = h("fieldset", {}, h("legend", {}, label(pointer, true)), body);
  else element = h("details", { open: initial !== undefined }, h("summary", {}, label(pointer, true)), h("fieldset", {}, h("legend", { class: "visually-hidden" }, label(pointer, true)), body));
  context.wrappers.set(pointer, element);
  return {
    element,
    value() {
      const value = {};
      for (const [name, child] of children) {
        const childValue = child.value();
        if (childValue !== undefined) value[name] = childValue;
      }
      return Object.keys(value).length ? value : undefined;
    },
  };
}

function control(schema, pointer, initial, required, context) {
  if (schema.type === "object" || schema.properties) {
    return objectControl(schema, pointer, initial, required, { ...context, top: false });
  }
  if (schema.type === "array") return arrayControl(schema, pointer, initial, context);
  let input;
  let read;
  const options = { required, hint: hint(schema), name: pointer };
  if (schema.enum) {
    const words = ENUM_WORDS[pointer.split("/").at(-1)];
    input = h(
      "select",
      {},
      required ? null : h("option", { value: "" }, "—"),
      schema.enum.map((value) =>
        h("option", { value, selected: initial === value }, words && has(`${words}.${value}`) ? t(`${words}.${value}`) : value),
      ),
    );
    read = () => input.value || undefined;
  } else if (schema.type === "boolean") {
    input = h(
      "select",
      {},
      h("option", { value: "" }, t("app.form.unknown")),
      h("option", { value: "true", selected: initial === true }, t("app.form.yes")),
      h("option", { value: "false", selected: initial === false }, t("app.form.no")),
    );
    read = () => (input.value === "" ? undefined : input.value === "true");
  } else if (schema.type === "number" || schema.type === "integer") {
    input = h("input", { type: "number", inputmode: "decimal", step: schema.type === "integer" ? "1" : "any", value: initial !== undefined ? String(initial) : null });
    read = () => (input.value.trim() === "" ? undefined : Number(input.value));
  } else if (schema.format === "date") {
    input = h("input", { type: "date", value: initial || null });
    read = () => input.value || undefined;
  } else {
    const long = (schema.maxLength || 0) > 200;
    input = long ? h("textarea", { rows: 3 }) : h("input", { type: "text", autocomplete: "off", value: initial || null });
    if (long && initial) input.value = initial;
    read = () => (input.value.trim() === "" ? undefined : input.value.trim());
  }
  const wrapper = field(label(pointer), input, options);
  context.wrappers.set(pointer, wrapper);
  return { element: wrapper, value: read };
}

function arrayControl(schema, pointer, initial, context) {
  const itemSchema = context.resolve(schema.items);
  const items = [];
  const list = h("div", { class: "repeat" });
  const add = (value) => {
    const index = items.length;
    const child = control(itemSchema, `${pointer}/${index}`, value, true, { ...context, top: false });
    items.push(child);
    list.append(child.element);
  };
  for (const value of initial || []) add(value);
  const element = h(
    "fieldset",
    {},
    h("legend", {}, label(pointer, true)),
    list,
    button(t("app.form.add", { what: label(pointer, true) }), () => add(undefined), { kind: "secondary" }),
  );
  context.wrappers.set(pointer, element);
  return {
    element,
    value() {
      const values = items.map((item) => item.value()).filter((value) => value !== undefined);
      return values.length ? values : undefined;
    },
  };
}

/** The wrapper closest to `pointer`; a missing required field's problem names its parent. */
function nearest(wrappers, pointer, message) {
  const missing = /"([a-z_]+)" is a required property|missing[^"]*"([a-z_]+)"/i.exec(message || "");
  const name = missing && (missing[1] || missing[2]);
  if (name && wrappers.has(`${pointer}/${name}`)) return fieldWrapper(wrappers.get(`${pointer}/${name}`));
  for (let at = pointer; ; at = at.slice(0, at.lastIndexOf("/"))) {
    if (wrappers.has(at)) return fieldWrapper(wrappers.get(at));
    if (!at) return null;
  }
}

// A group (fieldset/details) shows its problems in its first field's place.
function fieldWrapper(element) {
  if (element.classList.contains("field")) return element;
  const first = element.querySelector(".field");
  return first || null;
}
