//! The site app: the web app every node serves at `/app/`, with which contractors, reuse hubs
//! and certifiers work from a phone, the member's signing key living in the phone
//! (issue 28, README "The site app").
//!
//! The app is plain JavaScript modules, CSS and a few images under `node/app/`, compiled into
//! the binary by [`SHELL`]: no CDN, no external asset, no build step outside cargo. Everything
//! the app signs it signs in the browser with a non-extractable WebCrypto Ed25519 key; the node
//! only serves the files, the translations from its own locale files ([`locale_strings`]), the
//! passport schema the register form is generated from, and the QR code of a phone's key.
//!
//! What the files get: a strict Content-Security-Policy ([`CONTENT_SECURITY_POLICY`]: scripts,
//! styles, workers and the manifest from this origin only, no inline script, no `eval`), an
//! `ETag` of their content and `Cache-Control: no-cache`, so a phone revalidates on every load
//! while the service worker (`sw.js`) answers from its cache offline. The service worker's
//! cache is named after [`shell_version`], the digest of every file, so a new release replaces it.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::provenance::locale::Locale;

/// The app's Content-Security-Policy. Camera frames are drawn on a canvas and never leave the
/// page as URLs; photos are previewed through `blob:` URLs the app makes itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
     media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One file of the app shell.
#[derive(Debug, Clone, Copy)]
pub struct ShellFile {
    /// Its path below `/app/` (`""` is the page itself).
    pub path: &'static str,
    /// Its media type.
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// A file of `node/app/`, served at the same path below `/app/`.
macro_rules! shell_file {
    ($path:literal, $media_type:expr) => {
        ShellFile { path: $path, media_type: $media_type, bytes: include_bytes!(concat!("../../app/", $path)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the app shell, which the service worker keeps for offline use.
pub const SHELL: &[ShellFile] = &[
    ShellFile { path: "", media_type: "text/html; charset=utf-8", bytes: include_bytes!("../../app/index.html") },
    shell_file!("app.css", "text/css; charset=utf-8"),
    shell_file!("manifest.webmanifest", "application/manifest+json"),
    shell_file!("icon-192.png", "image/png"),
    shell_file!("icon-512.png", "image/png"),
    shell_file!("js/main.js", JS),
    shell_file!("js/session.js", JS),
    shell_file!("js/canonical.js", JS),
    shell_file!("js/device.js", JS),
    shell_file!("js/signing.js", JS),
    shell_file!("js/api.js", JS),
    shell_file!("js/outbox.js", JS),
    shell_file!("js/i18n.js", JS),
    shell_file!("js/ui.js", JS),
    shell_file!("js/camera.js", JS),
    shell_file!("js/scan_worker.js", JS),
    shell_file!("js/passport_form.js", JS),
    shell_file!("js/screens/device.js", JS),
    shell_file!("js/screens/scan.js", JS),
    shell_file!("js/screens/item.js", JS),
    shell_file!("js/screens/register.js", JS),
    shell_file!("js/screens/lists.js", JS),
    shell_file!("js/screens/outbox.js", JS),
    shell_file!("vendor/jsqr.min.js", JS),
];

/// The service worker, served at `/app/sw.js` with [`shell_version`] filled in.
const SERVICE_WORKER: &str = include_str!("../../app/sw.js");

/// The shell file at `path` below `/app/`.
pub fn shell_file(path: &str) -> Option<&'static ShellFile> {
    SHELL.iter().find(|file| file.path == path)
}

/// The digest of the whole shell (every file's path and bytes), short hex: it names the
/// service worker's cache, so each release of the app replaces the cached one.
pub fn shell_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = blake3::Hasher::new();
        for file in SHELL {
            hasher.update(file.path.as_bytes());
            hasher.update(&(file.bytes.len() as u64).to_le_bytes());
            hasher.update(file.bytes);
        }
        hasher.update(SERVICE_WORKER.as_bytes());
        // The strings and the schema are kept by the service worker too.
        for (code, text) in crate::provenance::locale::EMBEDDED {
            hasher.update(code.as_bytes());
            hasher.update(text.as_bytes());
        }
        hasher.update(passport_schema().to_string().as_bytes());
        hasher.finalize().to_hex()[..16].to_owned()
    })
}

/// The service worker's source, naming the cache after [`shell_version`] and listing the
/// files it keeps (the shell, every language's strings and the passport schema).
pub fn service_worker(locales: &[&str]) -> String {
    let mut kept: Vec<String> = SHELL.iter().map(|file| format!("./{}", file.path)).collect();
    kept.extend(locales.iter().map(|code| format!("./locale/{code}.json")));
    kept.push("./schema/passport.json".to_owned());
    let list = serde_json::to_string(&kept).unwrap_or_else(|_| "[]".to_owned());
    SERVICE_WORKER
        .replace("\"__SHELL_VERSION__\"", &format!("\"{}\"", shell_version()))
        .replace("[\"__SHELL_FILES__\"]", &list)
}

/// The size of everything a phone downloads to run the app, in bytes.
pub fn shell_size() -> usize {
    SHELL.iter().map(|file| file.bytes.len()).sum::<usize>() + SERVICE_WORKER.len()
}

/// Every string of `locale` (the provenance page's words for categories, units, statuses and
/// routes, and the app's own under `app.`), with the language's code, name and the other
/// languages, so one locale file serves both the page and the app.
pub fn locale_strings(locale: &Locale, languages: &[(&str, &str)]) -> Value {
    let strings: Map<String, Value> =
        locale.keys().map(|key| (key.to_owned(), Value::String(locale.text(key).to_owned()))).collect();
    let languages: Vec<Value> =
        languages.iter().map(|(code, name)| serde_json::json!({"code": code, "name": name})).collect();
    serde_json::json!({"code": locale.code(), "name": locale.name(), "languages": languages, "strings": strings})
}

/// The passport schema and the common definitions it refers to, for the register form.
pub fn passport_schema() -> Value {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    serde_json::json!({
        "passport": parse(include_str!("../../../schemas/passport.schema.json")),
        "common": parse(include_str!("../../../schemas/common.schema.json")),
    })
}

#[cfg(test)]
mod tests;
