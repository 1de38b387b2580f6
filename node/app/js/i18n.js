// The app's words, from the node's own locale files (node/locales/*.toml, served as
// /app/locale/<code>.json): the same files as the provenance page, so a language is added once.

let current = { code: "en", name: "English", languages: [], strings: {} };

/** Loads `code` (or the phone's language, or English) and remembers the choice. */
export async function loadLanguage(code) {
  const wanted = code || localStorage.getItem("language") || preferred();
  for (const candidate of [wanted, "en"]) {
    try {
      const response = await fetch(`./locale/${encodeURIComponent(candidate)}.json`);
      if (response.ok) {
        current = await response.json();
        localStorage.setItem("language", current.code);
        document.documentElement.lang = current.code;
        return current;
      }
    } catch {
      // Offline and not cached: try English, which the service worker always keeps.
    }
  }
  return current;
}

function preferred() {
  const languages = navigator.languages || [navigator.language || "en"];
  return (languages[0] || "en").slice(0, 2).toLowerCase();
}

/** The text of `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = current.strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Whether the locale has `key`. */
export function has(key) {
  return key in current.strings;
}

export function language() {
  return current;
}
