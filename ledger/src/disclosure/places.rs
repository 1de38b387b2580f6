//! Places in a statement's body: parsed RFC 6901 JSON Pointers, and which of
//! them a body restricts.

use serde_json::Value;

use crate::entry::Kind;

/// A place in a statement's body: an RFC 6901 JSON Pointer, parsed into its
/// reference tokens. Never the whole body (the empty pointer).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Place {
    tokens: Vec<String>,
}

/// A reference token read as an array index, if it is one (RFC 6901 §4:
/// `0` or digits without a leading zero).
pub(crate) fn array_index(token: &str) -> Option<usize> {
    let canonical =
        token == "0" || (!token.starts_with('0') && !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()));
    if canonical { token.parse().ok() } else { None }
}

impl Place {
    /// Parses a pointer such as `/passport/origin/address`.
    pub fn parse(pointer: &str) -> Result<Place, String> {
        let Some(rest) = pointer.strip_prefix('/') else {
            return Err(format!("the pointer {pointer:?} does not start with '/'"));
        };
        let tokens = rest
            .split('/')
            .map(|token| {
                unescape(token).ok_or_else(|| format!("the pointer {pointer:?} has a '~' not followed by 0 or 1"))
            })
            .collect::<Result<Vec<String>, String>>()?;
        Ok(Place { tokens })
    }

    /// The place `relative` names inside the value at `self`.
    pub fn join(&self, relative: &Place) -> Place {
        Place { tokens: self.tokens.iter().chain(&relative.tokens).cloned().collect() }
    }

    /// A place of one token below the body.
    pub(crate) fn member(name: &str) -> Place {
        Place { tokens: vec![name.to_owned()] }
    }

    /// The place of element `index` of the array at `self`.
    pub(crate) fn element(&self, index: usize) -> Place {
        let mut tokens = self.tokens.clone();
        tokens.push(index.to_string());
        Place { tokens }
    }

    /// The reference tokens, unescaped.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Whether `self` lies inside `other` (or is it).
    pub fn is_within(&self, other: &Place) -> bool {
        self.tokens.starts_with(&other.tokens)
    }

    /// The value at this place in `body`, if there is one.
    pub fn find<'a>(&self, body: &'a Value) -> Option<&'a Value> {
        self.tokens.iter().try_fold(body, |current, token| match current {
            Value::Object(members) => members.get(token),
            Value::Array(elements) => elements.get(array_index(token)?),
            _ => None,
        })
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for token in &self.tokens {
            write!(f, "/{}", token.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Place({self})")
    }
}

/// Decodes `~1` to `/` and `~0` to `~` (in that order, as RFC 6901 §4
/// requires); `None` for a `~` followed by anything else.
pub(crate) fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The places a body of `kind` restricts, as places in the body, in the order
/// its lists give them: each passport's `restricted` pointers below that
/// passport (`/passport`, or `/parts/N/passport` of a split), and an
/// installation's own `restricted` list. Pointers that do not parse are left
/// out: the schema refuses them. Duplicates are kept, for the caller to refuse.
pub fn restricted_places(kind: Kind, body: &Value) -> Vec<Place> {
    let mut places = Vec::new();
    let mut from_list = |owner: Place, holder: Option<&Value>| {
        let Some(Value::Array(pointers)) = holder.and_then(|holder| holder.get("restricted")) else { return };
        for pointer in pointers.iter().filter_map(Value::as_str) {
            if let Ok(relative) = Place::parse(pointer) {
                places.push(owner.join(&relative));
            }
        }
    };
    match kind {
        Kind::ItemRegister | Kind::ItemAmend => from_list(Place::member("passport"), body.get("passport")),
        Kind::ItemSplit => {
            if let Some(Value::Array(parts)) = body.get("parts") {
                for (index, part) in parts.iter().enumerate() {
                    from_list(
                        Place::member("parts").element(index).join(&Place::member("passport")),
                        part.get("passport"),
                    );
                }
            }
        }
        Kind::ItemInstall => from_list(Place { tokens: Vec::new() }, Some(body)),
        _ => {}
    }
    places
}
