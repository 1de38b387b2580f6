// Register (or amend) an item: its GIAI from a scanned pre-printed label or the next free one
// under the member's prefix or range, the passport form, photos from the camera with their
// metadata stripped in the browser, and a label to print once it is recorded.

import { t } from "../i18n.js";
import { button, field, fieldError, h, linkButton, notice, show } from "../ui.js";
import { Unreachable, post, read, signedRead, upload } from "../api.js";
import { keptItem, session, signAndSubmit } from "../session.js";
import { passportForm } from "../passport_form.js";
import { startReader, understand } from "../camera.js";
import { outcomeText } from "./outbox.js";

const LARGEST_PHOTO_SIDE = 2048;

/** The register screen; `argument` is `amend:<GIAI>` to amend an item's passport instead. */
export async function registerScreen(argument) {
  const amending = argument.startsWith("amend:") ? argument.slice("amend:".length) : null;
  let schemas;
  try {
    schemas = await (await fetch("./schema/passport.json")).json();
  } catch {
    return show(t("app.register.title"), h("p", { class: "notice error" }, t("app.offline_needed")));
  }
  let initial = {};
  if (amending) {
    try {
      initial = (await read(`/v1/items/${encodeURIComponent(amending)}`)).passport || {};
    } catch {
      initial = ((await keptItem(amending)) || {}).passport || {};
    }
  }
  if (amending && (initial.restricted || []).length) {
    // The public passport lacks the values it keeps private, and the app cannot withhold
    // values yet (docs/format.md §13 needs their salted digests): never sign a passport
    // that would silently lose them.
    return show(t("app.action.amend"), h("p", { class: "notice info" }, t("app.register.restricted_amend")));
  }
  const giaiInput = h("input", { type: "text", autocomplete: "off", spellcheck: "false", autocapitalize: "characters", value: amending, readonly: Boolean(amending) });
  const giaiField = field(t("app.field.identity.giai"), giaiInput, { required: true, hint: t("app.register.giai_hint"), name: "/identity/giai" });
  const camera = h("div", { class: "camera-area" });
  let reader = null;
  const scanLabel = async () => {
    try {
      reader = await startReader(t("app.scan.viewfinder"), (text) => {
        const understood = understand(text);
        if (understood && understood.giai) {
          giaiInput.value = understood.giai;
          reader.stop();
          camera.replaceChildren();
        }
      });
      camera.replaceChildren(reader.element);
    } catch {
      notice(t("app.scan.no_camera"), "error");
    }
  };
  const nextFree = async () => {
    try {
      const next = await signedRead(session.device, `/v1/members/${encodeURIComponent(session.member.id)}/next-giai`);
      giaiInput.value = next.giai;
    } catch (error) {
      notice(error instanceof Unreachable ? t("app.offline_needed") : error.message, "error");
    }
  };
  const form = passportForm(schemas, initial);
  const photos = photoControl();
  const reason = h("input", { type: "text", autocomplete: "off" });
  const result = h("div", { role: "status", "aria-live": "polite", class: "result" });
  const sign = async () => {
    const giai = giaiInput.value.trim();
    fieldError(giaiField, giai ? "" : t("app.form.missing"));
    if (!giai) return giaiInput.focus();
    const passport = { ...form.value(), identity: { ...(initial.identity || {}), giai } };
    if (initial.photos) passport.photos = initial.photos;
    if (initial.documents) passport.documents = initial.documents;
    try {
      const { problems } = await post("/app/check/passport", passport);
      const unplaced = form.showProblems(problems.filter((problem) => !problem.pointer.startsWith("/identity")));
      const giaiProblem = problems.find((problem) => problem.pointer.startsWith("/identity"));
      if (giaiProblem) fieldError(giaiField, giaiProblem.message);
      if (problems.length) {
        notice(t("app.register.problems", { count: problems.length }), "error");
        if (unplaced.length) result.replaceChildren(h("ul", {}, unplaced.map((p) => h("li", {}, `${p.pointer || "/"}: ${p.message}`))));
        return;
      }
      const added = await photos.upload();
      if (added.length) passport.photos = [...(passport.photos || []), ...added];
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      if (photos.count()) {
        notice(t("app.register.photos_offline"), "error");
        return;
      }
      // Offline: the node judges the passport when the outbox reaches it.
    }
    const body = amending ? { giai, passport } : { giai, passport };
    const value = reason.value.trim();
    if (amending && value) body.reason = value;
    const kind = amending ? "item.amend" : "item.register";
    const { record } = await signAndSubmit(kind, body, `${t(amending ? "app.action.amend" : "app.register.title")} ${giai}`);
    result.replaceChildren(outcomeText(record), record.state === "accepted" ? linkButton(t("app.item.label"), `#/label/${encodeURIComponent(giai)}`) : null);
  };
  show(
    amending ? t("app.action.amend") : t("app.register.title"),
    giaiField,
    amending ? null : h("div", { class: "row-buttons" }, button(t("app.register.scan_label"), scanLabel, { kind: "secondary" }), button(t("app.register.next_giai"), nextFree, { kind: "secondary" })),
    camera,
    form.element,
    photos.element,
    amending ? field(t("app.form.reason"), reason) : null,
    button(t("app.form.sign"), sign),
    result,
  );
  return () => reader && reader.stop();
}

/** Photos from the camera, re-drawn on a canvas so no Exif (GPS, camera serial) survives. */
function photoControl() {
  const photos = [];
  const previews = h("div", { class: "photos" });
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true });
  input.addEventListener("change", async () => {
    for (const file of input.files) {
      const blob = await stripped(file);
      photos.push(blob);
      previews.append(h("img", { src: URL.createObjectURL(blob), alt: t("app.register.photo_alt", { n: photos.length }), class: "preview" }));
    }
    input.value = "";
  });
  return {
    element: h("fieldset", {}, h("legend", {}, t("app.register.photos")), field(t("app.register.take_photo"), input, { hint: t("app.register.photo_hint") }), previews),
    count: () => photos.length,
    async upload() {
      const added = [];
      for (const [index, blob] of photos.entries()) {
        const stored = await upload(session.device, blob);
        added.push({ title: t("app.register.photo_title", { n: index + 1 }), media_type: stored.media_type, blake3: stored.blake3, size: stored.size });
      }
      return added;
    },
  };
}

/** The picture as a new JPEG: pixels only, no metadata (location, camera, time). */
export async function stripped(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LARGEST_PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no JPEG"))), "image/jpeg", 0.88));
}
