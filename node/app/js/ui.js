// Small helpers to build the screens without HTML strings (the CSP allows no inline script,
// and building nodes keeps every value text, never markup).

let nextId = 0;

/** A new element: `h("button", {class: "big", onclick}, "Text", child…)`. */
export function h(tag, properties = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(properties || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** A unique id for labelling controls. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** Replaces the screen's content and moves the focus to its heading (screen readers follow). */
export function show(title, ...content) {
  const main = document.getElementById("screen");
  const heading = h("h1", { tabindex: "-1", id: "screen-title" }, title);
  main.replaceChildren(heading, ...content.flat().filter(Boolean));
  document.title = `${title} · Salvage`;
  heading.focus();
}

/** A labelled control with a hint and a place for its error, linked by aria-describedby. */
export function field(label, control, { hint, required, name } = {}) {
  const id = control.id || uid("field");
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.setAttribute("aria-describedby", hint ? `${hintId} ${errorId}` : errorId);
  if (required) control.required = true;
  const wrapper = h(
    "div",
    { class: "field", "data-pointer": name || null },
    h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "error", id: errorId, role: "alert", hidden: true }),
  );
  return wrapper;
}

/** Shows `message` as the error of the field wrapping `control` (or clears it). */
export function fieldError(wrapper, message) {
  const error = wrapper.querySelector(".error");
  if (!error) return;
  const control = wrapper.querySelector("input, select, textarea");
  error.textContent = message || "";
  error.hidden = !message;
  if (control) control.setAttribute("aria-invalid", message ? "true" : "false");
}

/** A status message in the screen's live region. */
export function notice(text, kind = "info") {
  const region = document.getElementById("notice");
  region.className = `notice ${kind}`;
  region.textContent = text;
  region.hidden = !text;
}

/** A large button. */
export function button(text, onclick, { kind = "primary", disabled = false, describedBy } = {}) {
  return h("button", { type: "button", class: `button ${kind}`, onclick, disabled, "aria-describedby": describedBy }, text);
}

/** A link styled as a large button. */
export function linkButton(text, href, kind = "secondary") {
  return h("a", { class: `button ${kind}`, href }, text);
}
