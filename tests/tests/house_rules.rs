//! The house rules: two promises about the shape of the code, kept by this test.
//!
//! Salvage is meant to be read and changed by someone new to it (ARCHITECTURE.md is written
//! for them), and two properties of the sources make that possible. This test checks both
//! on every `cargo test`, over the production sources of the workspace's crates (`src/` of
//! `ledger`, `node`, `cli` and `tests`; integration tests, benches and examples aside).
//!
//! 1. **No source file over 800 lines, tests aside.** A file is one thing a reader can hold
//!    in their head. Test code does not count: a test module in its own file (`tests.rs`, or
//!    anything in a `tests/` folder inside `src/`, that is, a `#[cfg(test)] mod tests;`) is
//!    skipped, and the lines of an inline `#[cfg(test)] mod tests { … }` are subtracted.
//!    *To fix a violation*, split the file: move one concern into a module of its own (`x.rs`
//!    becomes `x/mod.rs` plus `x/part.rs`), or move its inline tests to `x/tests.rs`.
//!
//! 2. **No import cycles between files.** Each file can be understood from the files it
//!    imports, and changed without touching the files that import it, only if imports go
//!    one way. File A *imports* file B when A names an item or module defined in B: through
//!    a `use` (grouped, nested, renamed, glob; `crate::`, `self::`, `super::`, or another
//!    workspace crate such as `salvage_ledger::`) or through a path in code, in a macro's
//!    tokens or in an attribute (`crate::x::Y`, `super::x::f()`, `child::Thing`, `Name::new`
//!    where `Name` came in by a `use`), or by invoking a `macro_rules!` macro that a
//!    `#[macro_use] mod` brought into scope. Re-exports (`pub use`, and any `use` a path goes
//!    through) are followed to the file that defines the item, so naming `crate::Ledger` when
//!    `lib.rs` says `pub use store::Ledger` imports `store/mod.rs`, not `lib.rs`. Declaring a
//!    child module (`mod x;`) is not an import, and `#[cfg(test)]` code does not count.
//!    A file may use its ancestors (a file of `server/` may use `server/mod.rs`, `super::…`),
//!    provided the way back from that ancestor to the file stays inside the ancestor's folder;
//!    apart from that, no two files may import each other, directly or through others.
//!    *To fix a violation*, look at the edges the failure lists, each with one path that
//!    creates it: move what both files need into a file (or module) that imports neither, or
//!    move an item to the file that uses it, so that the imports go one way again.
//!
//! The sources are parsed with `syn` and names are resolved module by module (uses, globs,
//! re-exports, inline modules), as the compiler would. The ignored
//! test `print_the_import_graph` prints every edge with an example, for when a failure needs
//! investigating: `cargo test --test house_rules -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use syn::buffer::{Cursor, TokenBuffer};
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, ImplItem, Item, ItemMod, ItemUse, Meta, TraitItem, UseTree};

/// The most lines a production source file may have, its inline tests aside.
const MAX_LINES: usize = 800;

#[test]
fn no_source_file_is_over_800_lines_tests_aside() {
    let workspace = Workspace::load();
    let mut offenders = Vec::new();
    for file in workspace.production_sources() {
        let text = workspace.read(&file);
        let total = text.lines().count();
        let tests = inline_test_lines(&file, &text);
        if total - tests > MAX_LINES {
            let with_tests = if tests > 0 { format!(" ({total} with its inline tests)") } else { String::new() };
            offenders.push(format!("    {file}: {} lines{with_tests}", total - tests));
        }
    }
    assert!(
        offenders.is_empty(),
        "house rule 1: these source files are over {MAX_LINES} lines, tests aside:\n{}\n\n\
         Split each one: move one concern into a module of its own (`x.rs` becomes `x/mod.rs` plus \
         `x/part.rs`), or move its inline `#[cfg(test)] mod tests {{ … }}` into `x/tests.rs`. \
         See the top of tests/tests/house_rules.rs.\n",
        offenders.join("\n")
    );
}

#[test]
fn files_do_not_import_each_other_in_a_loop() {
    let workspace = Workspace::load();
    let graph = workspace.import_graph();
    let problems = graph.problems(&workspace);
    assert!(
        problems.is_empty(),
        "house rule 2: files import each other in a loop ({} problems):\n\n{}\n\
         Each edge `a -> b (x)` means file a names `x`, which is defined in file b. Break each loop: \
         move what both files need into a file (or module) that imports neither, or move an item to \
         the file that uses it, so that imports go one way. See the top of tests/tests/house_rules.rs.\n",
        problems.len(),
        problems.join("\n")
    );
}

/// Prints the whole import graph, one edge a line with the path that creates it.
#[test]
#[ignore = "a tool for investigating a failure of the test above, not a test"]
fn print_the_import_graph() {
    let workspace = Workspace::load();
    let graph = workspace.import_graph();
    for (from, targets) in graph.sorted(&workspace) {
        for (to, example) in targets {
            println!("{} -> {} ({example})", workspace.files[from].rel, workspace.files[to].rel);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The workspace: its crates, their module trees and what each module names.
// ---------------------------------------------------------------------------------------

/// A parsed source file of the module tree.
struct SourceFile {
    /// Path from the workspace root, with `/`.
    rel: String,
    /// The module that the file is (inline modules inside it have modules of their own).
    module: usize,
    syntax: syn::File,
}

/// A module: a file, or an inline `mod x { … }` inside one.
struct Module {
    /// Index of the crate root module, the same for every module of one crate (a library, or
    /// one binary).
    root: usize,
    /// Names from the crate root.
    path: Vec<String>,
    file: usize,
    parent: Option<usize>,
    /// Child modules, in their own files or inline.
    children: BTreeMap<String, usize>,
    /// Children declared with `#[macro_use]`, whose macros are in scope after them.
    macro_use_children: Vec<usize>,
    /// Names of the other items defined at the module's top level (functions, types, …).
    items: BTreeSet<String>,
    /// Names of the `macro_rules!` macros defined at the module's top level.
    macros: BTreeSet<String>,
    /// Every `use` in the module, at its top level or inside its functions.
    uses: Vec<UseLeaf>,
}

/// One leaf of a `use` tree.
struct UseLeaf {
    /// The name it binds (`None` for a glob or `as _`).
    name: Option<String>,
    path: Vec<String>,
    leading_colon: bool,
    glob: bool,
    /// Whether the `use` is at the module's top level (so that paths through the module see
    /// it), rather than inside a function.
    top_level: bool,
}

struct Workspace {
    root: PathBuf,
    /// The `src` folders of the workspace's crates, from the root.
    source_dirs: Vec<String>,
    /// Library crate names (`salvage_ledger`) and their root modules.
    libraries: BTreeMap<String, usize>,
    files: Vec<SourceFile>,
    modules: Vec<Module>,
    /// Files and folders of modules declared with `#[cfg(test)]` (`mod tests;`), from the root.
    test_modules: BTreeSet<String>,
}

impl Workspace {
    fn load() -> Workspace {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace").into();
        let mut workspace = Workspace {
            root,
            source_dirs: Vec::new(),
            libraries: BTreeMap::new(),
            files: Vec::new(),
            modules: Vec::new(),
            test_modules: BTreeSet::new(),
        };
        for member in workspace_members(&workspace.read("Cargo.toml")) {
            let manifest = workspace.read(&format!("{member}/Cargo.toml"));
            let package = manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = \"")?.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{member}/Cargo.toml names its package"));
            let src = format!("{member}/src");
            if workspace.exists(&format!("{src}/lib.rs")) {
                let root = workspace.load_root(&format!("{src}/lib.rs"));
                workspace.libraries.insert(package.replace('-', "_"), root);
            }
            if workspace.exists(&format!("{src}/main.rs")) {
                workspace.load_root(&format!("{src}/main.rs"));
            }
            for bin in workspace.list(&format!("{src}/bin")) {
                if bin.ends_with(".rs") {
                    workspace.load_root(&bin);
                } else if workspace.exists(&format!("{bin}/main.rs")) {
                    workspace.load_root(&format!("{bin}/main.rs"));
                }
            }
            workspace.source_dirs.push(src);
        }
        workspace
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap_or_else(|error| panic!("cannot read {rel}: {error}"))
    }

    fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).is_file()
    }

    /// The entries of a folder, sorted, as paths from the root (none if it does not exist).
    fn list(&self, rel: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(self.root.join(rel)) else { return Vec::new() };
        let mut names: Vec<String> = entries.map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names.into_iter().map(|name| format!("{rel}/{name}")).collect()
    }

    /// Every `.rs` file under the crates' `src` folders that is not a test module.
    fn production_sources(&self) -> Vec<String> {
        let mut files = Vec::new();
        let mut todo: Vec<String> = self.source_dirs.clone();
        while let Some(dir) = todo.pop() {
            for entry in self.list(&dir) {
                let name = entry.rsplit('/').next().unwrap();
                if self.test_modules.contains(&entry) {
                    continue;
                } else if self.root.join(&entry).is_dir() {
                    if name != "tests" {
                        todo.push(entry);
                    }
                } else if entry.ends_with(".rs") && name != "tests.rs" {
                    files.push(entry);
                }
            }
        }
        files.sort();
        files
    }

    fn load_root(&mut self, rel: &str) -> usize {
        let root = self.modules.len();
        self.load_file(rel, root, None, Vec::new(), parent_dir(rel))
    }

    /// Parses a file and the modules it declares; `dir` is where its `mod x;` files are.
    fn load_file(&mut self, rel: &str, root: usize, parent: Option<usize>, path: Vec<String>, dir: String) -> usize {
        let text = self.read(rel);
        let syntax = syn::parse_file(&text).unwrap_or_else(|error| panic!("cannot parse {rel}: {error}"));
        let file = self.files.len();
        let module = self.new_module(root, parent, path, file);
        // The file's own syntax is stored once its modules (which come after it) are loaded.
        let placeholder = syn::parse_file("").unwrap();
        self.files.push(SourceFile { rel: rel.to_owned(), module, syntax: placeholder });
        self.collect(module, &syntax.items, &dir);
        self.files[file].syntax = syntax;
        module
    }

    fn new_module(&mut self, root: usize, parent: Option<usize>, path: Vec<String>, file: usize) -> usize {
        self.modules.push(Module {
            root,
            path,
            file,
            parent,
            children: BTreeMap::new(),
            macro_use_children: Vec::new(),
            items: BTreeSet::new(),
            macros: BTreeSet::new(),
            uses: Vec::new(),
        });
        self.modules.len() - 1
    }

    /// Records what the items of `module` define, declare and use.
    fn collect(&mut self, module: usize, items: &[Item], dir: &str) {
        for item in items {
            if is_test_only(item_attrs(item)) {
                if let Item::Mod(declared) = item
                    && declared.content.is_none()
                {
                    let name = declared.ident.unraw().to_string();
                    self.test_modules.insert(format!("{dir}/{name}.rs"));
                    self.test_modules.insert(format!("{dir}/{name}"));
                }
                continue;
            }
            match item {
                Item::Mod(declared) => {
                    let name = declared.ident.unraw().to_string();
                    let (root, mut path) = (self.modules[module].root, self.modules[module].path.clone());
                    path.push(name.clone());
                    let child = match &declared.content {
                        Some((_, inner)) => {
                            let file = self.modules[module].file;
                            let child = self.new_module(root, Some(module), path, file);
                            self.collect(child, inner, &format!("{dir}/{name}"));
                            child
                        }
                        None => {
                            let (flat, nested) = (format!("{dir}/{name}.rs"), format!("{dir}/{name}/mod.rs"));
                            let rel = if self.exists(&flat) {
                                flat
                            } else if self.exists(&nested) {
                                nested
                            } else {
                                panic!(
                                    "`mod {name};` in {}: neither {flat} nor {nested}",
                                    self.files[self.modules[module].file].rel
                                )
                            };
                            self.load_file(&rel, root, Some(module), path, format!("{dir}/{name}"))
                        }
                    };
                    self.modules[module].children.insert(name, child);
                    if declared.attrs.iter().any(|attr| attr.path().is_ident("macro_use")) {
                        self.modules[module].macro_use_children.push(child);
                    }
                }
                Item::Use(used) => self.add_use(module, used, true),
                Item::Macro(macro_rules) => {
                    if let Some(name) = &macro_rules.ident {
                        self.modules[module].macros.insert(name.unraw().to_string());
                        self.modules[module].items.insert(name.unraw().to_string());
                    }
                }
                _ => {
                    if let Some(name) = item_name(item) {
                        self.modules[module].items.insert(name);
                    }
                    let mut nested = NestedUses(Vec::new());
                    nested.visit_item(item);
                    for used in nested.0 {
                        self.add_use(module, used, false);
                    }
                }
            }
        }
    }

    fn add_use(&mut self, module: usize, used: &ItemUse, top_level: bool) {
        for (path, name, glob) in use_leaves(&used.tree) {
            let leading_colon = used.leading_colon.is_some();
            self.modules[module].uses.push(UseLeaf { name, path, leading_colon, glob, top_level });
        }
    }

    // -----------------------------------------------------------------------------------
    // Name resolution.
    // -----------------------------------------------------------------------------------

    /// The file that defines what `path`, written in `module`, names; `None` if that is outside
    /// the workspace (the standard library, another crate, a local variable, a generic).
    fn defining_file(&self, module: usize, path: &[String], leading_colon: bool) -> Option<usize> {
        match self.place(module, path, leading_colon, 0)? {
            Place::Module(module) => Some(self.modules[module].file),
            Place::Item(file) => Some(file),
        }
    }

    fn place(&self, module: usize, path: &[String], leading_colon: bool, depth: u32) -> Option<Place> {
        let (first, rest) = path.split_first()?;
        if depth > 32 {
            return None;
        }
        if leading_colon {
            return self.walk(Place::Module(*self.libraries.get(first)?), rest, depth);
        }
        let start = match first.as_str() {
            "crate" => Place::Module(self.modules[module].root),
            "self" => Place::Module(module),
            "super" => {
                let supers = path.iter().take_while(|segment| *segment == "super").count();
                let mut ancestor = module;
                for _ in 0..supers {
                    ancestor = self.modules[ancestor].parent?;
                }
                return self.walk(Place::Module(ancestor), &path[supers..], depth);
            }
            name => match self.member(module, name, true, depth) {
                Lookup::Found(place) => place,
                Lookup::Outside => return None,
                Lookup::Unknown => Place::Module(*self.libraries.get(name)?),
            },
        };
        self.walk(start, rest, depth)
    }

    /// Follows `rest` from `place`: through modules, until an item (whose variants and
    /// associated items are in its own file).
    fn walk(&self, mut place: Place, rest: &[String], depth: u32) -> Option<Place> {
        for name in rest {
            let Place::Module(module) = place else { break };
            place = match self.member(module, name, false, depth) {
                Lookup::Found(found) => found,
                Lookup::Outside => return None,
                // A name we cannot see (made by a macro, say): the module's file defines it.
                Lookup::Unknown => Place::Item(self.modules[module].file),
            };
        }
        Some(place)
    }

    /// What `name` is in `module`: `inside` when the name is written in the module itself (its
    /// functions' `use`s then count too).
    fn member(&self, module: usize, name: &str, inside: bool, depth: u32) -> Lookup {
        let here = &self.modules[module];
        if let Some(child) = here.children.get(name) {
            return Lookup::Found(Place::Module(*child));
        }
        if here.items.contains(name) {
            return Lookup::Found(Place::Item(here.file));
        }
        let visible = |leaf: &&UseLeaf| leaf.top_level || inside;
        if let Some(leaf) = here.uses.iter().filter(visible).find(|leaf| leaf.name.as_deref() == Some(name)) {
            return match self.place(module, &leaf.path, leaf.leading_colon, depth + 1) {
                Some(place) => Lookup::Found(place),
                None => Lookup::Outside,
            };
        }
        for leaf in here.uses.iter().filter(visible).filter(|leaf| leaf.glob) {
            if let Some(Place::Module(source)) = self.place(module, &leaf.path, leaf.leading_colon, depth + 1)
                && source != module
                && let Lookup::Found(place) = self.member(source, name, false, depth + 1)
            {
                return Lookup::Found(place);
            }
        }
        Lookup::Unknown
    }

    /// The file of the `macro_rules!` macro `name` in textual scope in `module`: defined in it or
    /// an ancestor, or in a `#[macro_use]` child of one of those.
    fn textual_macro(&self, module: usize, name: &str) -> Option<usize> {
        let mut scope = Some(module);
        while let Some(module) = scope {
            let mut todo = vec![module];
            while let Some(candidate) = todo.pop() {
                if self.modules[candidate].macros.contains(name) {
                    return Some(self.modules[candidate].file);
                }
                todo.extend(&self.modules[candidate].macro_use_children);
            }
            scope = self.modules[module].parent;
        }
        None
    }

    /// Whether file `ancestor` is a module that contains the module of file `file`.
    fn is_ancestor(&self, ancestor: usize, file: usize) -> bool {
        let (a, f) = (&self.modules[self.files[ancestor].module], &self.modules[self.files[file].module]);
        a.root == f.root && a.path.len() < f.path.len() && f.path.starts_with(&a.path)
    }

    // -----------------------------------------------------------------------------------
    // The import graph.
    // -----------------------------------------------------------------------------------

    fn import_graph(&self) -> Graph {
        let mut edges = BTreeMap::new();
        for (file, source) in self.files.iter().enumerate() {
            let mut imports = Imports { workspace: self, file, scopes: vec![source.module], found: BTreeMap::new() };
            imports.visit_file(&source.syntax);
            edges.insert(file, imports.found);
        }
        Graph { edges }
    }
}

#[derive(Clone, Copy)]
enum Place {
    Module(usize),
    /// An item (not a module), defined in this file.
    Item(usize),
}

enum Lookup {
    Found(Place),
    /// Brought in from outside the workspace.
    Outside,
    Unknown,
}

/// The `use` items inside an item (in function bodies), not inside its inline modules.
struct NestedUses<'ast>(Vec<&'ast ItemUse>);

impl<'ast> Visit<'ast> for NestedUses<'ast> {
    fn visit_item(&mut self, item: &'ast Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }
    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        if !is_test_only(impl_item_attrs(item)) {
            visit::visit_impl_item(self, item);
        }
    }
    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        if !is_test_only(trait_item_attrs(item)) {
            visit::visit_trait_item(self, item);
        }
    }
    fn visit_item_mod(&mut self, _: &'ast ItemMod) {}
    fn visit_item_use(&mut self, used: &'ast ItemUse) {
        self.0.push(used);
    }
}

/// Finds what one file names in other files: the targets, each with the first path naming it.
struct Imports<'w> {
    workspace: &'w Workspace,
    file: usize,
    /// The module the visitor is in: the file's, then inline modules inside it.
    scopes: Vec<usize>,
    found: BTreeMap<usize, String>,
}

impl Imports<'_> {
    fn scope(&self) -> usize {
        *self.scopes.last().unwrap()
    }

    fn note(&mut self, path: &[String], leading_colon: bool, example: impl FnOnce() -> String) {
        if let Some(target) = self.workspace.defining_file(self.scope(), path, leading_colon)
            && target != self.file
        {
            self.found.entry(target).or_insert_with(example);
        }
    }

    /// Paths in tokens the parser leaves unparsed (macro arguments and bodies, attribute
    /// arguments): every `a::b…` not preceded by `::`; `$crate` is the crate.
    fn scan(&mut self, mut cursor: Cursor) {
        #[derive(PartialEq)]
        enum Before {
            Separator,
            Dollar,
            Other,
        }
        let mut before = Before::Other;
        while !cursor.eof() {
            if let Some((inside, _, _, next)) = cursor.any_group() {
                self.scan(inside);
                (cursor, before) = (next, Before::Other);
            } else if let Some((ident, next)) = cursor.ident() {
                let dollar = before == Before::Dollar;
                cursor = next;
                if before == Before::Separator || (dollar && ident != "crate") {
                    before = Before::Other;
                    continue;
                }
                let mut path = vec![ident.unraw().to_string()];
                while let Some(after) = path_separator(cursor)
                    && let Some((ident, next)) = after.ident()
                {
                    path.push(ident.unraw().to_string());
                    cursor = next;
                }
                if path.len() > 1 {
                    self.note(&path, false, || format!("{}{}", if dollar { "$" } else { "" }, path.join("::")));
                }
                before = Before::Other;
            } else if let Some(after) = path_separator(cursor) {
                (cursor, before) = (after, Before::Separator);
            } else if let Some((punct, next)) = cursor.punct() {
                let dollar = punct.as_char() == '$';
                (cursor, before) = (next, if dollar { Before::Dollar } else { Before::Other });
            } else {
                let (_, next) = cursor.token_tree().unwrap();
                (cursor, before) = (next, Before::Other);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Imports<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        if !is_test_only(impl_item_attrs(item)) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        if !is_test_only(trait_item_attrs(item)) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, module: &'ast ItemMod) {
        // `mod x;` declares a child, which is not an import; an inline module is a scope.
        if module.content.is_some() {
            let inner = self.workspace.modules[self.scope()].children.get(&module.ident.unraw().to_string()).copied();
            self.scopes.push(inner.unwrap_or(self.scope()));
            visit::visit_item_mod(self, module);
            self.scopes.pop();
        }
    }

    fn visit_item_use(&mut self, used: &'ast ItemUse) {
        let leading_colon = used.leading_colon.is_some();
        for (path, name, glob) in use_leaves(&used.tree) {
            self.note(&path, leading_colon, || {
                let written = format!("{}{}", if leading_colon { "::" } else { "" }, path.join("::"));
                match (glob, name) {
                    (true, _) => format!("use {written}::*"),
                    (false, Some(name)) if Some(&name) != path.last() => format!("use {written} as {name}"),
                    (false, _) => format!("use {written}"),
                }
            });
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 || path.leading_colon.is_some() {
            let names: Vec<String> = path.segments.iter().map(|segment| segment.ident.unraw().to_string()).collect();
            let leading_colon = path.leading_colon.is_some();
            self.note(&names, leading_colon, || {
                format!("{}{}", if leading_colon { "::" } else { "" }, names.join("::"))
            });
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        if let Some(name) = mac.path.get_ident()
            && let Some(target) = self.workspace.textual_macro(self.scope(), &name.to_string())
            && target != self.file
        {
            self.found.entry(target).or_insert_with(|| format!("{name}!"));
        }
        self.scan(TokenBuffer::new2(mac.tokens.clone()).begin());
    }

    fn visit_meta_list(&mut self, list: &'ast syn::MetaList) {
        visit::visit_meta_list(self, list);
        self.scan(TokenBuffer::new2(list.tokens.clone()).begin());
    }
}

/// `::` (two joined colons) at `cursor`, and what follows it.
fn path_separator(cursor: Cursor) -> Option<Cursor> {
    let (first, next) = cursor.punct()?;
    let (second, after) = next.punct()?;
    (first.as_char() == ':' && second.as_char() == ':').then_some(after)
}

/// The leaves of a `use` tree: each path, the name it binds and whether it is a glob (whose
/// path is the module it reads).
fn use_leaves(tree: &UseTree) -> Vec<(Vec<String>, Option<String>, bool)> {
    fn walk(tree: &UseTree, prefix: &mut Vec<String>, leaves: &mut Vec<(Vec<String>, Option<String>, bool)>) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(path.ident.unraw().to_string());
                walk(&path.tree, prefix, leaves);
                prefix.pop();
            }
            UseTree::Name(name) if name.ident == "self" => leaves.push((prefix.clone(), prefix.last().cloned(), false)),
            UseTree::Name(name) => {
                let name = name.ident.unraw().to_string();
                let mut path = prefix.clone();
                path.push(name.clone());
                leaves.push((path, Some(name), false));
            }
            UseTree::Rename(rename) => {
                let mut path = prefix.clone();
                if rename.ident != "self" {
                    path.push(rename.ident.unraw().to_string());
                }
                let name = Some(rename.rename.unraw().to_string()).filter(|name| name != "_");
                leaves.push((path, name, false));
            }
            UseTree::Glob(_) => leaves.push((prefix.clone(), None, true)),
            UseTree::Group(group) => group.items.iter().for_each(|tree| walk(tree, prefix, leaves)),
        }
    }
    let mut leaves = Vec::new();
    walk(tree, &mut Vec::new(), &mut leaves);
    leaves
}

// ---------------------------------------------------------------------------------------
// Cycles.
// ---------------------------------------------------------------------------------------

struct Graph {
    /// File → the files it imports, each with an example.
    edges: BTreeMap<usize, BTreeMap<usize, String>>,
}

impl Graph {
    /// The edges by file path, for output in a stable order.
    fn sorted<'g>(&'g self, workspace: &Workspace) -> Vec<(usize, Vec<(usize, &'g String)>)> {
        let rel = |file: &usize| workspace.files[*file].rel.clone();
        let mut sorted: Vec<_> = self
            .edges
            .iter()
            .map(|(from, targets)| {
                let mut targets: Vec<_> = targets.iter().map(|(to, example)| (*to, example)).collect();
                targets.sort_by_key(|(to, _)| rel(to));
                (*from, targets)
            })
            .collect();
        sorted.sort_by_key(|(from, _)| rel(from));
        sorted
    }

    /// Every import cycle and every loop through an ancestor, described for the reader.
    fn problems(&self, workspace: &Workspace) -> Vec<String> {
        let sorted = self.sorted(workspace);
        let rel = |file: usize| workspace.files[file].rel.as_str();
        let edge = |from: usize, to: usize| format!("{} -> {} ({})", rel(from), rel(to), self.edges[&from][&to]);
        // Edges to an ancestor are left out of the cycles (a file may use its ancestors), and
        // checked below instead.
        let forward: BTreeMap<usize, Vec<usize>> = sorted
            .iter()
            .map(|(from, targets)| {
                let targets = targets.iter().map(|(to, _)| *to).filter(|to| !workspace.is_ancestor(*to, *from));
                (*from, targets.collect())
            })
            .collect();
        let mut problems = Vec::new();
        let mut components = strongly_connected(&forward);
        components.sort_by_key(|component| component.iter().map(|file| rel(*file)).min());
        for component in components {
            let mut files: Vec<usize> = component.iter().copied().collect();
            files.sort_by_key(|file| rel(*file));
            let mut text =
                format!("cycle between {}:\n", files.iter().map(|file| rel(*file)).collect::<Vec<_>>().join(", "));
            for from in &files {
                for to in forward[from].iter().filter(|to| component.contains(to)) {
                    writeln!(text, "    {}", edge(*from, *to)).unwrap();
                }
            }
            problems.push(text);
        }
        // An edge to an ancestor is allowed only if the ancestor does not lead back to the file
        // through files outside the ancestor's folder.
        for (file, targets) in &sorted {
            for (ancestor, _) in targets.iter().filter(|(to, _)| workspace.is_ancestor(*to, *file)) {
                let inside = |other: usize| other == *ancestor || workspace.is_ancestor(*ancestor, other);
                if let Some(way_back) = path_leaving(&forward, *ancestor, *file, inside) {
                    let mut text = format!(
                        "loop through an ancestor: {} uses {}, which leads back to it through files outside {}:\n    {}\n",
                        rel(*file),
                        rel(*ancestor),
                        parent_dir(rel(*ancestor)),
                        edge(*file, *ancestor)
                    );
                    for step in way_back.windows(2) {
                        writeln!(text, "    {}", edge(step[0], step[1])).unwrap();
                    }
                    problems.push(text);
                }
            }
        }
        problems
    }
}

/// Tarjan's strongly connected components of more than one file.
fn strongly_connected(edges: &BTreeMap<usize, Vec<usize>>) -> Vec<BTreeSet<usize>> {
    struct Tarjan<'e> {
        edges: &'e BTreeMap<usize, Vec<usize>>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        components: Vec<BTreeSet<usize>>,
    }
    impl Tarjan<'_> {
        fn strong(&mut self, v: usize) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for &w in self.edges.get(&v).into_iter().flatten() {
                if !self.index.contains_key(&w) {
                    self.strong(w);
                    self.low.insert(v, self.low[&v].min(self.low[&w]));
                } else if self.on_stack.contains(&w) {
                    self.low.insert(v, self.low[&v].min(self.index[&w]));
                }
            }
            if self.low[&v] == self.index[&v] {
                let mut component = BTreeSet::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(&w);
                    component.insert(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &v in edges.keys() {
        if !tarjan.index.contains_key(&v) {
            tarjan.strong(v);
        }
    }
    tarjan.components
}

/// A shortest way from `from` to `to` that goes through at least one file outside `inside`.
fn path_leaving(
    edges: &BTreeMap<usize, Vec<usize>>,
    from: usize,
    to: usize,
    inside: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    let mut came_from: BTreeMap<(usize, bool), Option<(usize, bool)>> = BTreeMap::new();
    let mut todo = VecDeque::from([(from, false)]);
    came_from.insert((from, false), None);
    while let Some((file, left)) = todo.pop_front() {
        if file == to && left {
            let mut way = vec![file];
            let mut state = (file, left);
            while let Some(previous) = came_from[&state] {
                way.push(previous.0);
                state = previous;
            }
            way.reverse();
            return Some(way);
        }
        for &next in edges.get(&file).into_iter().flatten() {
            let state = (next, left || !inside(next));
            if let Entry::Vacant(vacant) = came_from.entry(state) {
                vacant.insert(Some((file, left)));
                todo.push_back(state);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Test code in a file: `#[cfg(test)]` items, and the lines of inline test modules.
// ---------------------------------------------------------------------------------------

/// Whether attributes make an item exist only in test builds: `#[cfg(test)]` or
/// `#[cfg(all(test, …))]`.
fn is_test_only(attrs: &[Attribute]) -> bool {
    fn test_only(meta: &Meta) -> bool {
        match meta {
            Meta::Path(path) => path.is_ident("test"),
            Meta::List(list) if list.path.is_ident("all") => list
                .parse_args_with(Punctuated::<Meta, syn::Token![,]>::parse_terminated)
                .is_ok_and(|all| all.iter().any(test_only)),
            _ => false,
        }
    }
    attrs.iter().any(|attr| attr.path().is_ident("cfg") && attr.parse_args::<Meta>().is_ok_and(|meta| test_only(&meta)))
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &ImplItem) -> &[Attribute] {
    match item {
        ImplItem::Const(item) => &item.attrs,
        ImplItem::Fn(item) => &item.attrs,
        ImplItem::Type(item) => &item.attrs,
        ImplItem::Macro(item) => &item.attrs,
        _ => &[],
    }
}

fn trait_item_attrs(item: &TraitItem) -> &[Attribute] {
    match item {
        TraitItem::Const(item) => &item.attrs,
        TraitItem::Fn(item) => &item.attrs,
        TraitItem::Type(item) => &item.attrs,
        TraitItem::Macro(item) => &item.attrs,
        _ => &[],
    }
}

/// The name an item defines, other than a module, a macro or a `use`.
fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(item) => &item.ident,
        Item::Enum(item) => &item.ident,
        Item::ExternCrate(item) => item.rename.as_ref().map_or(&item.ident, |(_, rename)| rename),
        Item::Fn(item) => &item.sig.ident,
        Item::Static(item) => &item.ident,
        Item::Struct(item) => &item.ident,
        Item::Trait(item) => &item.ident,
        Item::TraitAlias(item) => &item.ident,
        Item::Type(item) => &item.ident,
        Item::Union(item) => &item.ident,
        _ => return None,
    };
    Some(ident.unraw().to_string())
}

/// The number of lines of the inline `#[cfg(test)] mod name { … }` blocks of a file, from the
/// attribute to the closing brace.
///
/// `syn` (without span locations) says which modules these are; the text says where: the
/// blocks are found in the file with its comments and literals blanked out, and the two must
/// agree on the modules' names.
fn inline_test_lines(rel: &str, text: &str) -> usize {
    struct TestModules(Vec<String>);
    impl<'ast> Visit<'ast> for TestModules {
        fn visit_item_mod(&mut self, module: &'ast ItemMod) {
            match &module.content {
                Some(_) if is_test_only(&module.attrs) => self.0.push(module.ident.to_string()),
                Some(_) => visit::visit_item_mod(self, module),
                None => {}
            }
        }
    }
    let syntax = syn::parse_file(text).unwrap_or_else(|error| panic!("cannot parse {rel}: {error}"));
    if is_test_only(&syntax.attrs) {
        return text.lines().count();
    }
    let mut parsed = TestModules(Vec::new());
    parsed.visit_file(&syntax);
    let code = code_only(text);
    let blocks = inline_test_blocks(&code);
    let found: Vec<&str> = blocks.iter().map(|(_, _, name)| name.as_str()).collect();
    assert_eq!(
        found, parsed.0,
        "{rel}: the inline #[cfg(test)] modules found in the text differ from those the parser \
         sees; write them as `#[cfg(test)]`, other attributes, `mod name {{`"
    );
    let line = |at: usize| code[..at].iter().filter(|byte| **byte == b'\n').count();
    blocks.iter().map(|(start, end, _)| line(*end - 1) - line(*start) + 1).sum()
}

/// The byte ranges (attribute to closing brace) and names of the outermost
/// `#[cfg(test)] mod name { … }` blocks in `code` (a file with comments and literals blanked).
fn inline_test_blocks(code: &[u8]) -> Vec<(usize, usize, String)> {
    const ATTRIBUTE: &[u8] = b"#[cfg(test)]";
    let skip_space = |mut at: usize| {
        while code.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    };
    let word_at = |at: usize, word: &[u8]| {
        code[at..].starts_with(word) && !code.get(at + word.len()).copied().is_some_and(is_ident_byte)
    };
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(offset) = code[from..].windows(ATTRIBUTE.len()).position(|window| window == ATTRIBUTE) {
        let start = from + offset;
        from = start + ATTRIBUTE.len();
        let mut at = skip_space(from);
        while code[at..].starts_with(b"#[") {
            at = skip_space(after_closing(code, at + 1));
        }
        if word_at(at, b"pub") {
            at = skip_space(at + 3);
            if code.get(at) == Some(&b'(') {
                at = skip_space(after_closing(code, at));
            }
        }
        if !word_at(at, b"mod") {
            continue;
        }
        at = skip_space(at + 3);
        let name_start = at;
        while code.get(at).copied().is_some_and(is_ident_byte) {
            at += 1;
        }
        let name = String::from_utf8_lossy(&code[name_start..at]).into_owned();
        at = skip_space(at);
        if code.get(at) == Some(&b'{') {
            let end = after_closing(code, at);
            blocks.push((start, end, name));
            from = end;
        }
    }
    blocks
}

/// The position after the bracket that closes the one at `open` (`(`, `[` or `{`).
fn after_closing(code: &[u8], open: usize) -> usize {
    let (opening, closing) = match code[open] {
        b'(' => (b'(', b')'),
        b'[' => (b'[', b']'),
        _ => (b'{', b'}'),
    };
    let mut depth = 0;
    for (at, byte) in code.iter().enumerate().skip(open) {
        if *byte == opening {
            depth += 1;
        } else if *byte == closing {
            depth -= 1;
            if depth == 0 {
                return at + 1;
            }
        }
    }
    code.len()
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// The text with comments and the insides of string and character literals replaced by
/// spaces (line breaks kept), so that brackets and attributes can be found in it.
fn code_only(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut code = bytes.to_vec();
    let mut blank = |from: usize, to: usize| {
        for byte in &mut code[from..to.min(bytes.len())] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let find = |from: usize, needle: &[u8]| {
        bytes[from.min(bytes.len())..].windows(needle.len()).position(|window| window == needle).map(|at| from + at)
    };
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.starts_with(b"//") {
            let end = find(at, b"\n").unwrap_or(bytes.len());
            blank(at, end);
            at = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut end) = (0, at);
            while end < bytes.len() {
                if bytes[end..].starts_with(b"/*") {
                    (depth, end) = (depth + 1, end + 2);
                } else if bytes[end..].starts_with(b"*/") {
                    (depth, end) = (depth - 1, end + 2);
                    if depth == 0 {
                        break;
                    }
                } else {
                    end += 1;
                }
            }
            blank(at, end);
            at = end;
        } else if rest[0] == b'"' {
            let mut end = at + 1;
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            blank(at + 1, end);
            at = end + 1;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{1F600}', '\''), or else a lifetime or label.
            let end = if rest.get(1) == Some(&b'\\') {
                find(at + 3, b"'").map(|close| close + 1)
            } else {
                let width = text[at + 1..].chars().next().map_or(1, char::len_utf8);
                (bytes.get(at + 1 + width) == Some(&b'\'')).then_some(at + 2 + width)
            };
            match end {
                Some(end) => {
                    blank(at + 1, end - 1);
                    at = end;
                }
                None => at += 1,
            }
        } else if is_ident_byte(rest[0]) && !rest[0].is_ascii_digit() {
            let start = at;
            while at < bytes.len() && is_ident_byte(bytes[at]) {
                at += 1;
            }
            // A raw string: r"…", r#"…"#, br"…", cr"…".
            if matches!(&bytes[start..at], b"r" | b"br" | b"cr") {
                let hashes = bytes[at..].iter().take_while(|byte| **byte == b'#').count();
                if bytes.get(at + hashes) == Some(&b'"') {
                    let body = at + hashes + 1;
                    let closing = [&b"\""[..], &b"#".repeat(hashes)].concat();
                    let end = find(body, &closing).unwrap_or(bytes.len());
                    blank(body, end);
                    at = end + closing.len();
                }
            }
        } else {
            at += 1;
        }
    }
    code
}

// ---------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------

/// The `members` of the workspace's `Cargo.toml`.
fn workspace_members(manifest: &str) -> Vec<String> {
    let (_, after) = manifest.split_once("members = [").expect("the workspace lists its members");
    let (list, _) = after.split_once(']').expect("the members list ends");
    list.split(',')
        .map(|member| member.trim().trim_matches('"').to_owned())
        .filter(|member| !member.is_empty())
        .collect()
}

fn parent_dir(rel: &str) -> String {
    rel.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned()
}

#[test]
fn test_code_is_found_in_the_text_despite_braces_in_literals_and_comments() {
    let text = r##"fn f() -> char { '{' }
/* { /* nested { */ */
const S: &str = "}\" {";
const R: &str = r#"}"{"#;
fn g<'a>(x: &'a str) -> &'a str { x } // }

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a comment {
mod tests {
    const C: char = '}';
    fn h() -> &'static str { "{" }
}
#[cfg(test)]
mod declared;
"##;
    let code = code_only(text);
    assert_eq!(code.len(), text.len());
    let blocks = inline_test_blocks(&code);
    assert_eq!(blocks.iter().map(|(_, _, name)| name.as_str()).collect::<Vec<_>>(), ["tests"]);
    assert_eq!(inline_test_lines("example.rs", text), 6);
}
