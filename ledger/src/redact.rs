//! Removing the passport fields a contractor marked as not for the public.
//!
//! A passport's `restricted` list holds RFC 6901 JSON Pointers (such as
//! `/origin/address`) of fields that stay in the signed record but must never
//! reach a public view of it: the node's provenance page and API, and the
//! EPCIS export ([`crate::epcis`]). [`public_passport`] is the one place those
//! views take passport fields from, so nothing restricted can leak through a
//! field a view forgets to check. It lives in the ledger crate because it is
//! pure and every consumer of the ledger needs the same answer.

use serde_json::Value;

use crate::disclosure::places::{array_index, unescape};

/// The passport with every field its `restricted` list names removed, and the
/// list itself removed.
///
/// Pointers are resolved against the passport as signed, so restricting two
/// elements of one array removes exactly those two, whatever their order in
/// the list. A pointer to something that does not exist removes nothing; a
/// pointer that is not a JSON Pointer at all (no leading `/`) is ignored, since
/// the passport schema never lets one onto the ledger. The empty pointer names
/// the whole passport, which then becomes an empty object. Never panics.
pub fn public_passport(passport: &Value) -> Value {
    let Value::Object(fields) = passport else {
        return passport.clone();
    };
    let pointers: Vec<&str> = match fields.get("restricted") {
        Some(Value::Array(pointers)) => pointers.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if pointers.contains(&"") {
        return Value::Object(serde_json::Map::new());
    }
    let mut paths: Vec<Vec<Step>> = pointers.iter().filter_map(|pointer| resolve(passport, pointer)).collect();
    // Removing array element i shifts only the elements after it, and every path
    // through those sorts before it in descending order: so removing paths from the
    // greatest down leaves every remaining path pointing where it did.
    paths.sort_unstable_by(|a, b| b.cmp(a));
    paths.dedup();
    let mut public = passport.clone();
    for path in &paths {
        remove(&mut public, path);
    }
    if let Value::Object(fields) = &mut public {
        fields.remove("restricted");
    }
    public
}

/// One step of a resolved pointer. Indices order numerically, which the removal
/// order relies on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// An array element.
    Index(usize),
    /// An object member.
    Key(String),
}

/// The steps a pointer takes through `document`, if it names an existing value.
fn resolve(document: &Value, pointer: &str) -> Option<Vec<Step>> {
    let rest = pointer.strip_prefix('/')?;
    let mut current = document;
    let mut steps = Vec::new();
    for token in rest.split('/') {
        let token = unescape(token)?;
        match current {
            Value::Object(fields) => {
                current = fields.get(&token)?;
                steps.push(Step::Key(token));
            }
            Value::Array(elements) => {
                let index = array_index(&token)?;
                current = elements.get(index)?;
                steps.push(Step::Index(index));
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Removes the value at a resolved path, if it is still there.
fn remove(document: &mut Value, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = document;
    for step in parents {
        let next = match (step, current) {
            (Step::Key(key), Value::Object(fields)) => fields.get_mut(key),
            (Step::Index(index), Value::Array(elements)) => elements.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match (last, current) {
        (Step::Key(key), Value::Object(fields)) => {
            fields.remove(key);
        }
        (Step::Index(index), Value::Array(elements)) if *index < elements.len() => {
            elements.remove(*index);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn removes_nested_fields_and_the_list() {
        let passport = json!({
            "name": "Steel beam",
            "origin": {"building": "De Meander", "address": "Stationsplein 12", "country": "NL"},
            "restricted": ["/origin/address"],
        });
        assert_eq!(
            public_passport(&passport),
            json!({"name": "Steel beam", "origin": {"building": "De Meander", "country": "NL"}})
        );
    }

    #[test]
    fn removes_array_elements_whatever_the_order_of_the_list() {
        let passport = json!({
            "documents": [{"title": "a"}, {"title": "b"}, {"title": "c"}, {"title": "d"}],
            "hazards": {"substances": [{"name": "Lead", "cas": "7439-92-1", "clp_class": "Repr. 1A"}]},
            "restricted": ["/documents/0", "/documents/2", "/hazards/substances/0/clp_class", "/documents/3/title"],
        });
        let public = public_passport(&passport);
        // Elements 0 and 2 go; 3 loses its title (resolved before anything shifted).
        assert_eq!(public["documents"], json!([{"title": "b"}, {}]));
        assert_eq!(public["hazards"]["substances"][0], json!({"name": "Lead", "cas": "7439-92-1"}));
    }

    #[test]
    fn a_whole_array_and_one_of_its_elements_together() {
        let passport =
            json!({"documents": [{"title": "a"}, {"title": "b"}], "restricted": ["/documents/1", "/documents"]});
        assert_eq!(public_passport(&passport), json!({}));
    }

    #[test]
    fn pointers_to_nothing_remove_nothing() {
        let passport = json!({
            "name": "Door",
            "origin": {"country": "LV"},
            "materials": [{"name": "oak", "fraction": 1}],
            "restricted": ["/origin/address", "/materials/5", "/materials/-", "/materials/01", "/name/x", "no-slash", "/origin/~2"],
        });
        let mut expected = passport.clone();
        expected.as_object_mut().unwrap().remove("restricted");
        assert_eq!(public_passport(&passport), expected);
    }

    #[test]
    fn escapes_are_decoded() {
        let passport = json!({
            "notes": {"a/b": "slash", "m~n": "tilde", "~1": "literal tilde-one", "keep": 1},
            "restricted": ["/notes/a~1b", "/notes/m~0n", "/notes/~01"],
        });
        assert_eq!(public_passport(&passport), json!({"notes": {"keep": 1}}));
    }

    #[test]
    fn numeric_keys_of_objects_are_keys() {
        let passport = json!({"origin": {"0": "zero", "1": "one"}, "restricted": ["/origin/0"]});
        assert_eq!(public_passport(&passport), json!({"origin": {"1": "one"}}));
    }

    #[test]
    fn the_empty_pointer_hides_everything() {
        let passport = json!({"name": "Secret", "restricted": [""]});
        assert_eq!(public_passport(&passport), json!({}));
    }

    #[test]
    fn anything_else_passes_through_without_panicking() {
        for odd in [
            json!(null),
            json!(3),
            json!("text"),
            json!([1, 2]),
            json!({"restricted": "/name", "name": "x"}),
            json!({"restricted": [1, null, {}], "name": "x"}),
        ] {
            let public = public_passport(&odd);
            if let Value::Object(fields) = &public {
                assert!(!fields.contains_key("restricted"));
                assert_eq!(fields.get("name"), Some(&json!("x")));
            } else {
                assert_eq!(public, odd);
            }
        }
    }
}
