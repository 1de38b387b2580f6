// This phone: making its key, showing it so the member can add it (a QR code and a short
// code), adding another phone's key, and revoking a lost phone's key. Adding and revoking are
// `member.update` entries signed by one of the member's keys, exactly as with the CLI.

import { t } from "../i18n.js";
import { button, field, h, notice, show } from "../ui.js";
import { enrolDevice, refresh, session, signAndSubmit } from "../session.js";
import { keep, shortCode } from "../device.js";
import { startReader, understand } from "../camera.js";
import { outcomeText } from "./outbox.js";

/** The phone's own screen: set-up before enrolment, keys after. */
export async function deviceScreen({ onChange }) {
  if (!session.device) {
    return show(
      t("app.device.title"),
      h("p", {}, t("app.device.intro")),
      button(t("app.device.create"), async () => {
        await enrolDevice();
        onChange();
        deviceScreen({ onChange });
      }),
    );
  }
  if (!session.member || session.revoked) return waitingScreen(onChange);
  const member = session.member;
  const keys = Object.entries(member.keys || {});
  const rows = keys.map(([key, state]) => {
    const revoked = state.revoked !== undefined && state.revoked !== null;
    const mine = key === session.device.publicHex;
    return h(
      "li",
      { class: "row", "data-key": key },
      h("span", { class: "code" }, shortCode(key)),
      h("span", {}, mine ? t("app.device.this_phone") : revoked ? t("app.device.revoked") : t("app.device.active")),
      revoked || mine
        ? null
        : button(t("app.device.revoke"), () => revokeScreen(key), { kind: "danger" }),
    );
  });
  const controls = addPhoneControls();
  show(
    t("app.device.title"),
    h("p", {}, t("app.device.enrolled", { member: member.name, id: member.id })),
    h("p", {}, t("app.device.key_is"), " ", h("strong", { class: "code" }, shortCode(session.device.publicHex))),
    h("h2", {}, t("app.device.keys")),
    h("ul", { class: "list" }, rows),
    h("h2", {}, t("app.device.add_title")),
    h("p", {}, t("app.device.add_intro")),
    controls.element,
  );
  // The camera, if it was started to scan a new phone, stops with the screen.
  return controls.stop;
}

/** Before the member added the key: the QR code, the short code and the CLI command. */
function waitingScreen(onChange) {
  const key = session.device.publicHex;
  const check = async () => {
    try {
      await refresh();
    } catch {
      notice(t("app.offline_needed"), "error");
      return;
    }
    onChange();
    if (session.member && !session.revoked) {
      notice(t("app.device.welcome", { member: session.member.name }), "success");
      location.hash = "#/scan";
    } else {
      notice(t("app.device.not_yet"), "info");
    }
  };
  show(
    t("app.device.title"),
    session.revoked
      ? h("p", { class: "notice error" }, t("app.device.was_revoked", { member: session.member.name }))
      : h("p", {}, t("app.device.show_intro")),
    h("img", { class: "qr", src: `key.svg?key=${key}`, alt: t("app.device.qr_alt", { code: shortCode(key) }), width: 240, height: 240 }),
    h("p", {}, t("app.device.short_code"), " ", h("strong", { class: "code", id: "short-code" }, shortCode(key))),
    h("p", {}, t("app.device.cli_intro")),
    h("pre", { class: "command", id: "enrol-command" }, `salvage member update YOUR-MEMBER-ID --add-key ${key} --key YOUR-KEY.pem --node ${location.origin}`),
    h("p", { class: "hint" }, t("app.device.full_key")),
    h("code", { class: "key", id: "public-key" }, key),
    button(t("app.device.check"), check),
    session.revoked
      ? button(
          t("app.device.new_key"),
          async () => {
            await keep("key", null);
            session.device = null;
            await enrolDevice();
            onChange();
            deviceScreen({ onChange });
          },
          { kind: "secondary" },
        )
      : null,
  );
}

function addPhoneControls() {
  const input = h("input", { type: "text", inputmode: "text", autocomplete: "off", spellcheck: "false", class: "wide" });
  const typed = field(t("app.device.key_label"), input, { hint: t("app.device.key_hint") });
  let reader = null;
  const area = h("div", { class: "camera-area" });
  const element = h(
    "div",
    {},
    button(
      t("app.device.scan_phone"),
      async () => {
        try {
          reader = await startReader(t("app.scan.viewfinder"), (text) => {
            const understood = understand(text);
            if (understood && understood.enrol) {
              reader.stop();
              location.hash = `#/enrol/${understood.enrol}`;
            }
          });
          area.replaceChildren(reader.element);
        } catch {
          notice(t("app.scan.no_camera"), "error");
        }
      },
      { kind: "secondary" },
    ),
    area,
    typed,
    button(t("app.device.add_typed"), () => {
      const key = input.value.trim().toLowerCase().replace(/\s+/g, "");
      if (!/^[0-9a-f]{64}$/.test(key)) {
        notice(t("app.device.bad_key"), "error");
        return;
      }
      if (reader) reader.stop();
      location.hash = `#/enrol/${key}`;
    }),
  );
  return { element, stop: () => reader && reader.stop() };
}

/** Confirms adding another phone's key to this member. */
export function enrolScreen(key) {
  if (!/^[0-9a-f]{64}$/.test(key)) {
    return show(t("app.enrol.title"), h("p", { class: "notice error" }, t("app.device.bad_key")));
  }
  const member = session.member;
  const known = member && member.keys && member.keys[key];
  const result = h("div", { role: "status", "aria-live": "polite" });
  show(
    t("app.enrol.title"),
    h("p", {}, t("app.enrol.compare")),
    h("p", {}, h("strong", { class: "code", id: "enrol-code" }, shortCode(key))),
    known ? h("p", { class: "notice info" }, t("app.enrol.already")) : null,
    button(t("app.enrol.add", { member: member.name }), async () => {
      const { record } = await signAndSubmit("member.update", { id: member.id, add_keys: [key] }, t("app.enrol.summary", { code: shortCode(key) }));
      result.replaceChildren(outcomeText(record));
      await refresh().catch(() => {});
    }),
    result,
  );
}

/** Confirms revoking a (lost) phone's key. */
function revokeScreen(key) {
  const member = session.member;
  const result = h("div", { role: "status", "aria-live": "polite" });
  show(
    t("app.revoke.title"),
    h("p", {}, t("app.revoke.explain")),
    h("p", {}, h("strong", { class: "code" }, shortCode(key))),
    button(
      t("app.revoke.confirm"),
      async () => {
        const { record } = await signAndSubmit("member.update", { id: member.id, revoke_keys: [key] }, t("app.revoke.summary", { code: shortCode(key) }));
        result.replaceChildren(outcomeText(record));
        await refresh().catch(() => {});
      },
      { kind: "danger" },
    ),
    result,
  );
}
