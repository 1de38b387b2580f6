// Scan: the camera reads an item's QR code (a GS1 Digital Link) or a phone's enrolment code;
// a GIAI can be typed instead (gloves, a torn label, no camera).

import { t } from "../i18n.js";
import { button, field, h, notice, show } from "../ui.js";
import { startReader, understand } from "../camera.js";

/** Shows the scanner; resolves with a function that stops the camera. */
export async function scanScreen() {
  const input = h("input", { type: "text", autocomplete: "off", spellcheck: "false", autocapitalize: "characters", class: "wide" });
  const open = () => {
    const understood = understand(input.value);
    if (!understood || !understood.giai) {
      notice(t("app.scan.not_a_giai"), "error");
      return;
    }
    location.hash = `#/item/${encodeURIComponent(understood.giai)}`;
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") open();
  });
  const area = h("div", { class: "camera-area", id: "camera-area" });
  show(
    t("app.scan.title"),
    h("p", {}, t("app.scan.intro")),
    area,
    field(t("app.scan.typed"), input, { hint: t("app.scan.typed_hint") }),
    button(t("app.scan.open"), open),
  );
  let reader = null;
  const shown = location.hash;
  try {
    reader = await startReader(t("app.scan.viewfinder"), (text) => {
      const understood = understand(text);
      if (!understood) return;
      reader.stop();
      location.hash = understood.giai ? `#/item/${encodeURIComponent(understood.giai)}` : `#/enrol/${understood.enrol}`;
    });
    area.replaceChildren(reader.element);
    // Left while the camera was starting: the route's stop came too early for it.
    if (location.hash !== shown) reader.stop();
  } catch {
    area.replaceChildren(h("p", { class: "notice info" }, t("app.scan.no_camera")));
  }
  return () => reader && reader.stop();
}
