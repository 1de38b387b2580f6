// The outbox: every entry this phone signed, in order, with its outcome. Entries signed offline
// wait here until the node takes them; a refused one shows the ledger's reason.

import { t } from "../i18n.js";
import { button, h, show } from "../ui.js";
import { clearSettled, drain, entries, onChange } from "../outbox.js";

/** What happened to an outbox entry, in words. */
export function outcomeText(record) {
  if (!record) return h("p", {}, "");
  switch (record.state) {
    case "accepted":
      return h("p", { class: "outcome accepted" }, t("app.outcome.accepted", { seq: record.receipt ? record.receipt.seq : "?" }));
    case "refused":
      return h(
        "p",
        { class: "outcome refused" },
        t("app.outcome.refused"),
        " ",
        h("span", { class: "reason" }, record.refusal.message),
        " ",
        h("code", {}, record.refusal.code),
      );
    default:
      return h("p", { class: "outcome queued" }, t("app.outcome.queued"));
  }
}

/** The outbox screen; refreshes itself while shown. */
export async function outboxScreen() {
  const list = h("ol", { class: "list outbox", id: "outbox-list" });
  const render = async () => {
    const records = await entries();
    list.replaceChildren(
      ...records.map((record) =>
        h(
          "li",
          { class: `row ${record.state}`, "data-state": record.state, "data-kind": record.summary.kind },
          h("span", { class: "what" }, record.summary.text || record.summary.kind),
          h("span", { class: "when" }, t("app.outbox.signed", { time: record.entry.statement.time })),
          outcomeText(record),
        ),
      ),
    );
    if (!records.length) list.replaceChildren(h("li", {}, t("app.outbox.empty")));
  };
  show(
    t("app.outbox.title"),
    h("p", {}, t("app.outbox.intro")),
    button(t("app.outbox.send"), () => drain().then(render).catch(render), { kind: "secondary" }),
    button(t("app.outbox.clear"), () => clearSettled().then(render), { kind: "secondary" }),
    list,
  );
  await render();
  const unsubscribe = onChange(render);
  return unsubscribe;
}
