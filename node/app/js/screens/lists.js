// The member's own lists: the Inbox (transfers offered to it), My items (what it holds) and
// History (the entries it signed). Each is a signed read: only the member sees its lists.

import { t, has } from "../i18n.js";
import { button, h, notice, show } from "../ui.js";
import { Unreachable, signedRead } from "../api.js";
import { memberNamed, session, signAndSubmit } from "../session.js";
import { outcomeText } from "./outbox.js";

const mine = (path) => `/v1/members/${encodeURIComponent(session.member.id)}/${path}`;

async function load(path) {
  try {
    return await signedRead(session.device, mine(path));
  } catch (error) {
    notice(error instanceof Unreachable ? t("app.offline_needed") : error.message, "error");
    return null;
  }
}

const itemLink = (giai, text) => h("a", { href: `#/item/${encodeURIComponent(giai)}` }, text || giai);
const statusWords = (status) => (has(`status.${status}`) ? t(`status.${status}`) : status);

/** Transfers offered to this member, to receive or decline. */
export async function inboxScreen() {
  const list = h("ul", { class: "list", id: "inbox-list" });
  show(t("app.inbox.title"), h("p", {}, t("app.inbox.intro")), list);
  const answer = await load("offers");
  if (!answer) return;
  const offers = answer.offers || [];
  if (!offers.length) list.append(h("li", {}, t("app.inbox.empty")));
  for (const offer of offers) {
    const from = memberNamed(offer.from);
    const result = h("div", { role: "status", "aria-live": "polite" });
    const act = (kind, body, words) => async () => {
      const { record } = await signAndSubmit(kind, body, `${words} ${offer.giai}`);
      result.replaceChildren(outcomeText(record));
    };
    list.append(
      h(
        "li",
        { class: "row offer", "data-giai": offer.giai },
        h("span", { class: "what" }, itemLink(offer.giai, offer.name || offer.giai)),
        h("span", {}, t("app.inbox.from", { member: from ? from.name : offer.from })),
        button(t("app.action.receive"), act("item.receive", { giai: offer.giai }, t("app.action.receive"))),
        button(t("app.inbox.decline"), act("item.cancel", { giai: offer.giai, reason: t("app.inbox.declined") }, t("app.inbox.decline")), { kind: "secondary" }),
        result,
      ),
    );
  }
}

/** What this member holds, with status, a page at a time. */
export async function itemsScreen(after) {
  const list = h("ul", { class: "list", id: "items-list" });
  show(t("app.items.title"), list);
  const answer = await load(after ? `items?after=${encodeURIComponent(after)}` : "items");
  if (!answer) return;
  if (!answer.items.length) list.append(h("li", {}, t("app.items.empty")));
  for (const item of answer.items) {
    list.append(h("li", { class: "row", "data-giai": item.giai }, h("span", { class: "what" }, itemLink(item.giai, item.name || item.giai)), h("span", { class: "status" }, statusWords(item.status))));
  }
  if (answer.next) list.after(button(t("app.list.more"), () => itemsScreen(answer.next), { kind: "secondary" }));
}

/** The entries this member signed, newest first. */
export async function historyScreen(before) {
  const list = h("ol", { class: "list", id: "history-list" });
  show(t("app.history.title"), list);
  const answer = await load(before !== undefined ? `entries?before=${before}` : "entries");
  if (!answer) return;
  if (!answer.entries.length) list.append(h("li", {}, t("app.history.empty")));
  for (const entry of answer.entries) {
    list.append(
      h(
        "li",
        { class: "row", "data-seq": entry.seq },
        h("span", { class: "what" }, has(`app.kind.${entry.kind}`) ? t(`app.kind.${entry.kind}`) : entry.kind),
        entry.giai ? itemLink(entry.giai) : null,
        h("span", { class: "when" }, entry.time || ""),
      ),
    );
  }
  if (answer.next !== null && answer.next !== undefined) list.after(button(t("app.list.more"), () => historyScreen(answer.next), { kind: "secondary" }));
}
