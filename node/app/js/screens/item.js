// An item: what it is, who holds it, and the actions this member may take on it now. The node
// judges each action with the ledger's own rules (GET /v1/items/{giai}/actions) and the app
// shows a refused one with the ledger's reason instead of letting the person sign in vain.
// Offline, the last view kept on the phone is shown and every action may be signed: the node
// judges it when the outbox reaches it.

import { t, has } from "../i18n.js";
import { button, field, h, linkButton, notice, show, uid } from "../ui.js";
import { Unreachable, read, signedRead } from "../api.js";
import { keepItem, keptItem, memberNamed, session, signAndSubmit } from "../session.js";
import { outcomeText } from "./outbox.js";

const ACTIONS = ["receive", "transfer", "cancel", "install", "dismantle", "amend", "split", "attest", "dispose"];

/** The item screen. */
export async function itemScreen(giai) {
  let view = null;
  let verdicts = null;
  let offline = false;
  try {
    // The item and the verdicts in one round trip: the two requests go out together.
    const path = `/v1/items/${encodeURIComponent(giai)}`;
    const judged = signedRead(session.device, `${path}/actions`);
    judged.catch(() => {});
    view = await read(path);
    await keepItem(giai, view);
    verdicts = await judged;
  } catch (error) {
    if (error instanceof Unreachable) {
      offline = true;
      view = view || (await keptItem(giai));
    } else if (error.status === 404 && !view) {
      return show(giai, h("p", { class: "notice error" }, t("app.item.unknown", { giai })), linkButton(t("app.nav.scan"), "#/scan"));
    } else if (!view) {
      return show(giai, h("p", { class: "notice error" }, error.message));
    }
  }
  if (!view) {
    return show(giai, h("p", { class: "notice error" }, t("app.item.offline_unknown", { giai })));
  }
  const item = view.item;
  const actions = h("div", { class: "actions", id: "actions" });
  const form = h("div", { class: "action-form", id: "action-form" });
  const list = verdicts ? verdicts.actions : ACTIONS.map((action) => ({ action, allowed: true }));
  for (const verdict of list) {
    if (verdict.action === "attest" && !verdict.allowed && verdict.code && verdict.code.startsWith("role")) continue;
    const reasonId = uid("reason");
    actions.append(
      h(
        "div",
        { class: "action", "data-action": verdict.action },
        button(t(`app.action.${verdict.action}`), () => openForm(verdict.action, view, form), {
          kind: verdict.allowed ? "primary" : "disabled",
          disabled: !verdict.allowed,
          describedBy: verdict.allowed ? undefined : reasonId,
        }),
        verdict.allowed ? null : h("p", { class: "reason", id: reasonId, "data-code": verdict.code }, verdict.message),
      ),
    );
  }
  show(
    item.name || giai,
    offline ? h("p", { class: "notice info" }, t("app.item.offline")) : null,
    summary(item, view.passport),
    h("h2", {}, t("app.item.actions")),
    actions,
    form,
    linkButton(t("app.item.label"), `#/label/${encodeURIComponent(giai)}`),
    h("a", { class: "button secondary", href: `/8004/${encodeURIComponent(giai)}` }, t("app.item.page")),
  );
  performance.mark("salvage:actions");
}

function summary(item, passport) {
  const custodian = memberNamed(item.custodian);
  const rows = [
    [t("app.item.giai"), item.giai],
    [t("item.status"), has(`status.${item.status}`) ? t(`status.${item.status}`) : item.status],
    [t("app.item.custodian"), custodian ? custodian.name : item.custodian],
  ];
  if (passport && passport.category) rows.push([t("app.field.category"), t(`category.${passport.category}`)]);
  if (item.mass_kg !== undefined) rows.push([t("item.mass"), `${item.mass_kg} kg`]);
  if (item.pending) {
    const to = memberNamed(item.pending.to);
    rows.push([t("app.item.offered_to"), to ? to.name : item.pending.to]);
  }
  const hazards = passport && passport.hazards;
  return h(
    "div",
    {},
    hazards && hazards.asbestos_free === false ? h("p", { class: "notice error" }, t("hazard.asbestos")) : null,
    h("dl", { class: "facts" }, rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
  );
}

async function openForm(action, view, area) {
  if (action === "amend") {
    location.hash = `#/register/amend:${encodeURIComponent(view.item.giai)}`;
    return;
  }
  const giai = view.item.giai;
  const controls = [];
  const add = (name, control, label, options = {}) => {
    controls.push([name, control]);
    return field(label, control, options);
  };
  const text = (attributes = {}) => h("input", { type: "text", autocomplete: "off", ...attributes });
  const date = () => h("input", { type: "date" });
  const choose = (values, prefix) => h("select", {}, values.map((value) => h("option", { value }, has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value)));
  let fields = [];
  switch (action) {
    case "transfer": {
      // Waste goes to waste handlers (docs/rules.md §11): the ledger judges which may take this item.
      const holders = session.members.filter((member) => member.id !== session.member.id && (member.roles || []).some((role) => role === "holder" || role === "waste_handler"));
      const select = h("select", {}, holders.map((member) => h("option", { value: member.id }, `${member.name} (${member.id})`)));
      fields = [add("to", select, t("app.form.to"), { required: true }), add("note", text(), t("app.form.note"))];
      break;
    }
    case "receive":
      fields = [add("note", text(), t("app.form.note"))];
      break;
    case "cancel":
      fields = [add("reason", text(), t("app.form.reason"))];
      break;
    case "install":
      fields = [
        add("site.building", text(), t("app.form.building"), { required: true }),
        add("site.country", text({ maxlength: "2", autocapitalize: "characters" }), t("app.form.country"), { hint: t("app.form.country_hint") }),
        add("date", date(), t("app.form.date")),
      ];
      break;
    case "dismantle":
      fields = [add("reason", text(), t("app.form.reason")), add("date", date(), t("app.form.date"))];
      break;
    case "dispose":
      fields = [
        add("route", choose(["recycling", "energy_recovery", "landfill", "hazardous_waste_treatment", "hazardous_waste_landfill"], "route"), t("app.form.route"), { required: true }),
        add("facility", text(), t("app.form.facility")),
        add("waste_code", text(), t("app.form.waste_code"), { hint: t("app.form.waste_code_hint") }),
        add("date", date(), t("app.form.date")),
      ];
      break;
    case "attest":
      fields = [
        add("attestation.type", choose(["inspection", "certification", "hazard_survey", "test", "end_of_waste"], "attestation.type"), t("app.form.attestation_type"), { required: true }),
        add("attestation.result", choose(["pass", "conditional", "fail"], "attestation.result"), t("app.form.result"), { required: true }),
        add("attestation.summary", h("textarea", { rows: 3 }), t("app.form.summary"), { required: true }),
        add("attestation.standard", text(), t("app.form.standard")),
        add("attestation.certificate_id", text(), t("app.form.certificate")),
        add("attestation.valid_until", date(), t("app.form.valid_until")),
      ];
      break;
    case "split":
      return splitForm(view, area);
    default:
      return;
  }
  const result = h("div", { role: "status", "aria-live": "polite", class: "result" });
  const sign = async () => {
    const body = { giai };
    for (const [name, control] of controls) {
      const value = control.value.trim();
      if (!value) {
        if (control.required) {
          notice(t("app.form.missing"), "error");
          control.focus();
          return;
        }
        continue;
      }
      put(body, name, name.endsWith("country") ? value.toUpperCase() : value);
    }
    if (action === "attest") body.passport_version = view.item.passport_version;
    const { record } = await signAndSubmit(`item.${action}`, body, `${t(`app.action.${action}`)} ${giai}`);
    result.replaceChildren(outcomeText(record));
  };
  area.replaceChildren(h("h2", {}, t(`app.action.${action}`)), ...fields, button(t("app.form.sign"), sign), result);
  fields[0]?.querySelector("input, select, textarea")?.focus();
}

/** Sets `body.a.b = value` for the name "a.b". */
function put(body, name, value) {
  const path = name.split(".");
  let target = body;
  for (const step of path.slice(0, -1)) target = target[step] = target[step] || {};
  target[path.at(-1)] = value;
}

function splitForm(view, area) {
  const parent = view.item.giai;
  const parts = h("div", { class: "parts" });
  const addPart = () => {
    const index = parts.children.length + 1;
    const giai = h("input", { type: "text", autocomplete: "off", spellcheck: "false", "data-part": "giai" });
    const name = h("input", { type: "text", value: `${view.passport.name} (${index})`, "data-part": "name" });
    const mass = h("input", { type: "number", inputmode: "decimal", min: "0", step: "any", "data-part": "mass" });
    parts.append(
      h(
        "fieldset",
        { class: "part" },
        h("legend", {}, t("app.split.part", { n: index })),
        field(t("app.field.identity.giai"), giai, { required: true }),
        field(t("app.field.name"), name, { required: true }),
        field(t("app.field.mass_kg"), mass),
      ),
    );
  };
  addPart();
  addPart();
  const result = h("div", { role: "status", "aria-live": "polite", class: "result" });
  const sign = async () => {
    const body = { giai: parent, parts: [] };
    for (const part of parts.children) {
      const giai = part.querySelector('[data-part="giai"]').value.trim();
      const name = part.querySelector('[data-part="name"]').value.trim();
      const mass = part.querySelector('[data-part="mass"]').value.trim();
      if (!giai || !name) {
        notice(t("app.form.missing"), "error");
        return;
      }
      const passport = structuredClone(view.passport);
      passport.identity = { giai, predecessor: { giai: parent } };
      passport.name = name;
      if (mass) passport.mass_kg = Number(mass);
      else delete passport.mass_kg;
      delete passport.restricted;
      body.parts.push({ giai, passport });
    }
    const { record } = await signAndSubmit("item.split", body, `${t("app.action.split")} ${parent}`);
    result.replaceChildren(outcomeText(record));
  };
  area.replaceChildren(
    h("h2", {}, t("app.action.split")),
    h("p", {}, t("app.split.intro")),
    parts,
    button(t("app.split.add"), addPart, { kind: "secondary" }),
    button(t("app.form.sign"), sign),
    result,
  );
}

/** A label to print: the item's QR code (its Digital Link on this node), GIAI, name and EPC. */
export async function labelScreen(giai) {
  let view = null;
  try {
    view = await read(`/v1/items/${encodeURIComponent(giai)}`);
  } catch {
    view = await keptItem(giai);
  }
  const item = view ? view.item : { giai };
  show(
    t("app.label.title"),
    h(
      "div",
      { class: "label", id: "label" },
      h("img", { src: `/v1/items/${encodeURIComponent(giai)}/qr.svg`, alt: t("app.label.qr_alt", { giai }), width: 200, height: 200 }),
      h("p", { class: "label-name" }, item.name || ""),
      h("p", { class: "code" }, `(8004) ${giai}`),
      item.epc ? h("p", { class: "code small" }, `EPC ${item.epc.hex}`) : null,
    ),
    button(t("app.label.print"), () => print()),
  );
}
