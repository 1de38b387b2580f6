// The site app's entry point: checks it can run here, starts the service worker, loads the
// words and the session, and shows the screen the address names (#/scan, #/item/<GIAI>, …).

import { language, loadLanguage, t } from "./i18n.js";
import { h, notice } from "./ui.js";
import { session, startSession } from "./session.js";
import { keepDraining, onChange, entries } from "./outbox.js";

const TABS = [
  ["scan", "app.nav.scan"],
  ["register", "app.nav.register"],
  ["inbox", "app.nav.inbox"],
  ["items", "app.nav.items"],
  ["history", "app.nav.history"],
  ["outbox", "app.nav.outbox"],
  ["device", "app.nav.device"],
];

let stopScreen = null;

async function start() {
  if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) {
    // WebCrypto, the camera and service workers exist only in a secure context: say so.
    document.getElementById("insecure").hidden = false;
    return;
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("./sw.js", { scope: "./" }).catch((error) => console.warn("service worker:", error));
  }
  // The words and the session load side by side; each screen's module when it is first shown.
  await Promise.all([loadLanguage(), startSession(() => (chrome(), route()))]);
  chrome();
  keepDraining();
  onChange(() => updateConnection());
  addEventListener("online", () => updateConnection(true));
  addEventListener("offline", () => updateConnection(false));
  addEventListener("hashchange", route);
  await route();
  // The moment the first screen is usable, for the benchmark (docs/performance.md).
  performance.mark("salvage:usable");
}

/** The bar, the tabs and the language switch, in the current language. */
function chrome() {
  document.getElementById("brand").textContent = t("app.name");
  const select = document.getElementById("language");
  document.getElementById("language-label").textContent = t("language.switch");
  select.replaceChildren(
    ...language().languages.map((entry) => h("option", { value: entry.code, selected: entry.code === language().code }, entry.name)),
  );
  select.onchange = async () => {
    await loadLanguage(select.value);
    chrome();
    await route();
  };
  const current = location.hash.split("/")[1] || "";
  // Until a member has added this phone's key, its own screen is the only one it can use.
  document.getElementById("tabs").hidden = !session.member || session.revoked;
  document.getElementById("tabs").replaceChildren(
    ...TABS.map(([name, key]) =>
      h("a", { href: `#/${name}`, class: "tab", "aria-current": name === current ? "page" : null }, t(key)),
    ),
  );
  document.querySelector(".skip").textContent = t("app.skip");
  updateWho();
  updateConnection();
}

function updateWho() {
  const who = document.getElementById("who");
  who.textContent = session.member ? session.member.name : "";
}

async function updateConnection(online) {
  if (online !== undefined) session.online = online;
  const queued = (await entries()).filter((record) => record.state === "queued").length;
  const state = navigator.onLine ? (queued ? t("app.connection.sending", { count: queued }) : "") : t("app.connection.offline", { count: queued });
  document.getElementById("connection").textContent = state;
}

async function route() {
  if (stopScreen) stopScreen();
  stopScreen = null;
  notice("");
  const [, name = "", ...rest] = location.hash.split("/");
  const argument = rest.length ? decodeURIComponent(rest.join("/")) : "";
  for (const tab of document.querySelectorAll("#tabs .tab")) {
    if (tab.getAttribute("href") === `#/${name}`) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  updateWho();
  const stop = await screen(name, argument);
  // A screen that holds the camera or listens for changes returns how to stop it.
  if (typeof stop === "function") stopScreen = stop;
}

async function screen(name, argument) {
  if (!session.device || !session.member || session.revoked) {
    return (await import("./screens/device.js")).deviceScreen({ onChange: chrome });
  }
  switch (name) {
    case "item":
      return (await import("./screens/item.js")).itemScreen(argument);
    case "label":
      return (await import("./screens/item.js")).labelScreen(argument);
    case "register":
      return (await import("./screens/register.js")).registerScreen(argument);
    case "inbox":
      return (await import("./screens/lists.js")).inboxScreen();
    case "items":
      return (await import("./screens/lists.js")).itemsScreen();
    case "history":
      return (await import("./screens/lists.js")).historyScreen();
    case "outbox":
      return (await import("./screens/outbox.js")).outboxScreen();
    case "device":
      return (await import("./screens/device.js")).deviceScreen({ onChange: chrome });
    case "enrol":
      return (await import("./screens/device.js")).enrolScreen(argument);
    default:
      return (await import("./screens/scan.js")).scanScreen();
  }
}

// Whatever a screen did not expect is said, never swallowed: a person on site must know that
// what they tapped did not happen.
addEventListener("unhandledrejection", (event) => {
  console.error(event.reason);
  notice(String((event.reason && event.reason.message) || event.reason), "error");
});

start().catch((error) => {
  console.error(error);
  notice(String(error.message || error), "error");
});
