//! The layering rules of ARCHITECTURE.md, checked on the server's own source:
//! - nothing outside the HTTP edge (`api`, its problem+json error `problem`, its extractors
//!   `extract`, the app shell `spa`, and `openapi`/`startup`/`main` that document and mount it)
//!   refers to any of it;
//! - nothing below the edge (the operations in `ops` and everything they use) uses actix-web:
//!   they fail with `error::Error`, which the edge turns into problem+json;
//! - no two modules depend on each other, directly or through others (a module may use its
//!   ancestors and descendants: a parent mounts its children, children share its helpers).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Every path a file mentions, as segments (`crate::ops::invoices::issue_in` → 4 segments),
/// from `use` trees and from paths in code alike.
#[derive(Default)]
struct Mentions(Vec<Vec<String>>);

impl Mentions {
    fn flatten(&mut self, prefix: &[String], tree: &syn::UseTree) {
        let with = |name: &syn::Ident| [prefix, &[name.to_string()]].concat();
        match tree {
            syn::UseTree::Path(p) => self.flatten(&with(&p.ident), &p.tree),
            syn::UseTree::Name(n) => self.0.push(with(&n.ident)),
            syn::UseTree::Rename(r) => self.0.push(with(&r.ident)),
            syn::UseTree::Glob(_) => self.0.push(prefix.to_vec()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.flatten(prefix, t)),
        }
    }
}

impl<'ast> Visit<'ast> for Mentions {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.flatten(&[], &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0.push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `api/invoices.rs` → `api::invoices`, `api/mod.rs` → `api`, `lib.rs` → `` (the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The module of the crate a mention points into (the longest known prefix), if any.
fn target(from: &str, mention: &[String], modules: &BTreeSet<String>) -> Option<String> {
    let mut path: Vec<String> = match mention.first().map(String::as_str) {
        Some("crate") | Some("crmconnect") => mention[1..].to_vec(),
        Some("super") => {
            let mut base: Vec<String> = from.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
            let mut rest = mention;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            [base, rest.to_vec()].concat()
        }
        _ => return None,
    };
    while !path.is_empty() {
        let candidate = path.join("::");
        if modules.contains(&candidate) {
            return Some(candidate);
        }
        path.pop();
    }
    None
}

fn related(a: &str, b: &str) -> bool {
    a == b || b.is_empty() || a.is_empty() || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

struct Crate {
    /// module → the modules it mentions (ancestors/descendants excluded).
    deps: BTreeMap<String, BTreeSet<String>>,
    /// module → every mention, for the rules on external crates.
    mentions: BTreeMap<String, Vec<Vec<String>>>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let parsed: Vec<(String, Mentions)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("readable source");
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let mut m = Mentions::default();
            m.visit_file(&file);
            (module_of(&src, f), m)
        })
        .collect();
    let modules: BTreeSet<String> = parsed.iter().map(|(m, _)| m.clone()).collect();
    let mut deps = BTreeMap::new();
    let mut mentions = BTreeMap::new();
    for (module, m) in parsed {
        let to: BTreeSet<String> = m.0.iter().filter_map(|p| target(&module, p, &modules)).filter(|t| !related(&module, t)).collect();
        deps.insert(module.clone(), to);
        mentions.insert(module, m.0);
    }
    Crate { deps, mentions }
}

/// The HTTP edge: the handlers, their error and extractors, and the modules that mount or
/// document them.
fn is_http_edge(module: &str) -> bool {
    module == "api"
        || module.starts_with("api::")
        || ["problem", "extract", "conditional", "query_rules", "spa", "openapi", "startup", "main"].contains(&module)
}

#[test]
fn only_the_http_layer_uses_the_http_layer() {
    let c = read_crate();
    let offenders: Vec<String> =
        c.deps.iter().filter(|(m, _)| !is_http_edge(m)).flat_map(|(m, to)| to.iter().filter(|t| is_http_edge(t)).map(move |t| format!("{m} → {t}"))).collect();
    assert!(offenders.is_empty(), "modules below the HTTP edge import it: {offenders:#?}");
    // The rule is not vacuous: the handlers do use the operations.
    assert!(c.deps["api::invoices"].contains("ops::invoices"), "{:?}", c.deps["api::invoices"]);
}

#[test]
fn nothing_below_the_edge_knows_http() {
    let c = read_crate();
    let offenders: Vec<String> = c
        .mentions
        .iter()
        .filter(|(m, _)| !is_http_edge(m))
        .flat_map(|(m, paths)| paths.iter().filter(|p| p.first().is_some_and(|s| s == "actix_web")).map(move |p| format!("{m}: {}", p.join("::"))))
        .collect();
    assert!(offenders.is_empty(), "modules below the HTTP edge use actix-web: {offenders:#?}");
    // The rule is not vacuous: the edge does.
    assert!(c.mentions["problem"].iter().any(|p| p.first().is_some_and(|s| s == "actix_web")));
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let c = read_crate();
    // Tarjan's strongly connected components; any component of two or more is a cycle.
    struct State<'a> {
        deps: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let deps = s.deps;
        for w in deps.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                connect(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort_unstable();
                s.cycles.push(component);
            }
        }
    }
    let mut s = State { deps: &c.deps, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), cycles: Vec::new() };
    for m in c.deps.keys() {
        if !s.index.contains_key(m.as_str()) {
            connect(&mut s, m);
        }
    }
    assert!(s.cycles.is_empty(), "modules that import each other (directly or through others): {:#?}", s.cycles);
    assert!(c.deps.len() > 60, "the whole crate was read ({} modules)", c.deps.len());
}
