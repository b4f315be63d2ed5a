//! The code's shape, checked: layers only point down, no function in `src/`
//! is longer than 100 lines, no module is public but the documented ones
//! (the test and CLI seams only behind their features), the crate root's
//! list stays short, and no error text is read back for its meaning (no
//! boxed error aliases, no text split that was joined). Reads the source
//! files; needs no AWS.

use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
const MAX_FUNCTION_LINES: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(name, first line, length)` of every function with a body: from its `fn`
/// line to the `}` at the same indentation.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let head = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
        ]
        .iter()
        .fold(trimmed, |rest, prefix| {
            rest.strip_prefix(prefix).unwrap_or(rest)
        });
        let head = head.strip_prefix("async ").unwrap_or(head);
        let Some(signature) = head.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = signature
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            out.push((name, i + 1, end + 2));
        }
    }
    out
}

#[test]
fn no_function_in_src_is_longer_than_100_lines() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    assert!(files.len() > 10, "found only {} files", files.len());
    let mut seen = 0;
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (name, line, length) in functions(&text) {
            seen += 1;
            if length > MAX_FUNCTION_LINES {
                long.push(format!("{}:{line} {name} ({length} lines)", file.display()));
            }
        }
    }
    assert!(seen > 100, "the scan found only {seen} functions");
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines: {long:#?}"
    );
}

#[test]
fn the_scan_measures_a_long_function() {
    let body = "    x();\n".repeat(120);
    let text = format!("fn short() {{\n}}\n\npub async fn long() {{\n{body}}}\n");
    let found = functions(&text);
    assert_eq!(found[0], ("short".to_owned(), 1, 2));
    assert_eq!(found[1], ("long".to_owned(), 4, 122));
}

/// Modules and the higher layers they must never import.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "aws.rs",
        &[
            "resolve",
            "sources",
            "properties",
            "protocol",
            "physical_id",
        ],
    ),
    (
        "aws_error.rs",
        &["resolve", "sources", "properties", "protocol", "aws::"],
    ),
    (
        "progress.rs",
        &["resolve", "sources", "properties", "protocol", "aws"],
    ),
    (
        "input.rs",
        &["resolve", "sources", "properties", "protocol", "aws"],
    ),
    (
        "reason.rs",
        &[
            "resolve",
            "sources",
            "properties",
            "protocol",
            "aws",
            "input",
        ],
    ),
    (
        "config.rs",
        &["resolve", "sources", "properties", "protocol", "aws"],
    ),
    (
        "sources",
        &["resolve", "properties", "protocol", "physical_id"],
    ),
    ("properties.rs", &["resolve", "protocol", "physical_id"]),
];

#[test]
fn layers_only_import_downwards() {
    let mut wrong = Vec::new();
    for (module, forbidden) in LAYERS {
        let path = Path::new(SRC).join(module);
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for higher in *forbidden {
                if text.contains(&format!("crate::{higher}")) {
                    wrong.push(format!("{} uses crate::{higher}", file.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The modules that are public, each named in its parent's doc: the crate's
/// front page (`src/lib.rs`) names every one. `cli` and `testing` exist
/// only behind the cargo feature of the same name.
const PUBLIC_MODULES: &[(&str, &[&str])] = &[("lib.rs", &["cli", "error", "telemetry", "testing"])];

/// Public modules that only a cargo feature of their name turns on.
const FEATURE_MODULES: &[&str] = &["cli", "testing"];

/// The most items `src/lib.rs` may `pub use` at the crate's root: the front
/// page an embedder reads stays short; errors live in `error`, test seams in
/// `testing`.
const MAX_ROOT_ITEMS: usize = 21;

/// `pub mod` names declared in `text`.
fn public_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches([';', ' ', '{']).to_owned())
        .collect()
}

fn lib_rs() -> String {
    std::fs::read_to_string(Path::new(SRC).join("lib.rs")).unwrap()
}

#[test]
fn no_module_is_public_but_the_documented_ones() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(SRC).unwrap().to_string_lossy();
        let relative = relative.trim_start_matches('/');
        let text = std::fs::read_to_string(file).unwrap();
        let allowed = PUBLIC_MODULES
            .iter()
            .find(|(f, _)| *f == relative)
            .map_or(&[][..], |(_, m)| *m);
        for module in public_modules(&text) {
            if !allowed.contains(&module.as_str()) {
                wrong.push(format!("{relative}: pub mod {module}"));
            }
        }
    }
    assert!(wrong.is_empty(), "undocumented public modules: {wrong:#?}");
    let lib = lib_rs();
    let front_page: String = lib
        .lines()
        .filter(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    for module in public_modules(&lib) {
        assert!(
            front_page.contains(&format!("`{module}`")),
            "the crate doc does not name the public module {module}"
        );
    }
}

#[test]
fn the_test_and_cli_seams_are_behind_their_features() {
    let lib = lib_rs();
    let lines: Vec<&str> = lib.lines().collect();
    for module in FEATURE_MODULES {
        let at = lines
            .iter()
            .position(|l| *l == format!("pub mod {module};"))
            .unwrap_or_else(|| panic!("src/lib.rs declares no `pub mod {module};`"));
        assert_eq!(
            lines[at - 1],
            format!("#[cfg(feature = \"{module}\")]"),
            "pub mod {module} must be behind its feature"
        );
    }
    // The Lambda is built with `--no-default-features`; nothing the default
    // set (or `cli`) turns on may pull the test seams in.
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let features = manifest
        .split("[features]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("Cargo.toml has a [features] table");
    let mut names = Vec::new();
    for line in features
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
    {
        if let Some((name, _)) = line.split_once(" = ") {
            names.push(name.trim().to_owned());
        }
        if !line.starts_with("testing") {
            assert!(
                !line.contains("testing"),
                "a feature other than `testing` turns it on: {line}"
            );
        }
    }
    assert!(names.contains(&"testing".to_owned()), "{names:?}");
    let dev = manifest
        .split("[dev-dependencies]")
        .nth(1)
        .expect("Cargo.toml has dev-dependencies");
    assert!(
        dev.lines()
            .any(|l| l.starts_with("cross-region-param =") && l.contains("\"testing\"")),
        "tests turn the `testing` feature on through a dev-dependency on the crate"
    );
}

/// The items a `pub use` list in `text` names (its braces unfolded).
fn root_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\npub use ") {
        let statement = &rest[at + "\npub use ".len()..];
        let end = statement.find(';').unwrap_or(statement.len());
        let body = &statement[..end];
        let names = match body.split_once('{') {
            Some((_, inside)) => inside,
            None => body.rsplit("::").next().unwrap_or(body),
        };
        items.extend(
            names
                .trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace())
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        );
        rest = &statement[end..];
    }
    items
}

#[test]
fn the_crate_root_re_exports_a_short_list_once_each() {
    let items = root_items(&lib_rs());
    assert!(items.len() >= 10, "the scan found only {items:?}");
    assert!(
        items.len() <= MAX_ROOT_ITEMS,
        "{} items at the crate root (at most {MAX_ROOT_ITEMS}): {items:?}",
        items.len()
    );
    let mut unique = items.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        items.len(),
        "an item re-exported twice: {items:?}"
    );
    let error = std::fs::read_to_string(Path::new(SRC).join("error.rs")).unwrap();
    let errors = root_items(&error);
    let twice: Vec<&String> = errors.iter().filter(|e| items.contains(e)).collect();
    assert!(
        twice.is_empty(),
        "reachable both at the root and in `error`: {twice:?}"
    );
    assert!(
        errors.iter().all(|e| e.ends_with("Error")
            || [
                "FailureKind",
                "Refusal",
                "PropertyProblem",
                "Malformed",
                "Problem",
                "ProblemKind",
                "Found",
                "Cause",
                "UnanswerableRequest"
            ]
            .contains(&e.as_str())),
        "{errors:?}"
    );
}

#[test]
fn the_root_scan_unfolds_braces() {
    let text = "//! x\npub use a::B;\npub use c::{D, e::F,\n    G};\nmod h;\n";
    assert_eq!(root_items(text), ["B", "D", "e::F", "G"]);
}

/// Lines of non-test code in `src/` declaring an error as a boxed trait
/// object: errors stay typed (enums with `thiserror`) up to the Reason.
fn boxed_error_aliases(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|l| {
            let l = l.trim_start();
            (l.starts_with("pub type ")
                || l.starts_with("type ")
                || l.starts_with("pub(crate) type "))
                && l.contains("Box<dyn")
                && l.contains("Error")
        })
        .map(str::to_owned)
        .collect()
}

/// Every `.rs` file under `src/`, with its text.
fn source_texts() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    assert!(files.len() > 10, "found only {} files", files.len());
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect()
}

/// `found(text)` for every file under `src/`, each finding prefixed with
/// its file.
fn scan_sources(found: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    source_texts()
        .iter()
        .flat_map(|(file, text)| {
            found(text)
                .into_iter()
                .map(move |f| format!("{}: {f}", file.display()))
        })
        .collect()
}

#[test]
fn no_error_type_is_a_boxed_trait_object() {
    let wrong = scan_sources(boxed_error_aliases);
    assert!(wrong.is_empty(), "{wrong:#?}");
    let sources = std::fs::read_to_string(Path::new(SRC).join("sources/mod.rs")).unwrap();
    assert!(
        sources.contains("pub enum SourceError {"),
        "SourceError is an enum of the sources' own errors"
    );
    assert_eq!(
        boxed_error_aliases("pub type SourceError = Box<dyn std::error::Error + Send + Sync>;"),
        ["pub type SourceError = Box<dyn std::error::Error + Send + Sync>;"]
    );
}

/// Methods that would read meaning back out of text.
const TEXT_MATCHERS: &[&str] = &[
    "starts_with",
    "ends_with",
    "contains",
    "split_once",
    "rsplit_once",
    "strip_prefix",
    "strip_suffix",
    "split",
    "find",
];

/// Names under which the code holds Reasons, problems and messages.
const TEXT_HOLDERS: &[&str] = &[
    "reason",
    "problem",
    "problems",
    "message",
    "why",
    "malformed",
];

/// AWS's own wording, read by a named predicate because AWS gives no code
/// for it: `(file, what is matched)`.
const AWS_WORDING: &[(&str, &str)] = &[
    // CloudFormation reports a missing stack as ValidationError "... does not exist".
    ("sources/stack.rs", "does not exist"),
];

/// Lines of `text` (before its tests) that match prose, or call a text
/// matcher on something holding a Reason, problem or message.
fn parse_backs(text: &str) -> Vec<(usize, String)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut flagged = false;
        for method in TEXT_MATCHERS {
            let call = format!(".{method}(\"");
            for (at, _) in line.match_indices(&call) {
                let literal = line[at + call.len()..]
                    .split('"')
                    .next()
                    .unwrap_or_default();
                flagged |= literal.contains(' ');
            }
            for holder in TEXT_HOLDERS {
                flagged |= line.contains(&format!("{holder}.{method}("));
            }
            // Text just written, read straight back.
            flagged |= line.contains(&format!(".to_string().{method}("));
        }
        if flagged {
            out.push((i + 1, line.trim().to_owned()));
        }
    }
    out
}

#[test]
fn no_error_text_is_parsed_back_in_src() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(SRC).unwrap().to_string_lossy();
        let relative = relative.trim_start_matches('/').to_owned();
        let text = std::fs::read_to_string(file).unwrap();
        for (line, code) in parse_backs(&text) {
            let aws = AWS_WORDING
                .iter()
                .any(|(f, words)| *f == relative && code.contains(words));
            if !aws {
                wrong.push(format!("src/{relative}:{line}: {code}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "text read back where a typed value should be compared: {wrong:#?}"
    );
}

/// String literals passed to `method` (`.join("; ")` gives `; `) in the
/// non-test code of `text`.
fn literal_arguments(text: &str, method: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let call = format!(".{method}(\"");
    code.match_indices(&call)
        .filter_map(|(at, _)| code[at + call.len()..].split('"').next())
        .map(str::to_owned)
        .collect()
}

/// Separators a file both joins with and splits on: a list written into
/// text and read back out of it (as SSM names once were, to rebuild ARNs).
fn joined_then_split(text: &str) -> Vec<String> {
    let joined = literal_arguments(text, "join");
    let mut split = literal_arguments(text, "split");
    split.extend(literal_arguments(text, "split_once"));
    split.extend(literal_arguments(text, "rsplit_once"));
    joined.into_iter().filter(|j| split.contains(j)).collect()
}

#[test]
fn no_file_splits_what_it_joined() {
    let wrong = scan_sources(|text| {
        joined_then_split(text)
            .into_iter()
            .map(|separator| format!("joins and splits on {separator:?}"))
            .collect()
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
    let text = "let t = names.join(\", \");\nfor n in t.split(\", \") {}\nlet u = a.join(\"/\");\n";
    assert_eq!(joined_then_split(text), [", "]);
}

#[test]
fn the_parse_back_scan_finds_what_it_looks_for() {
    let text = r#"
fn a(problems: &[String]) {
    problems.iter().find(|p| p.starts_with("ResponseURL "));
    let names = target.split(", ");
    if reason.contains('x') {}
    let ok = name.starts_with('/');
    let again = e.to_string().contains('x');
}
#[cfg(test)]
fn t() { assert!(reason.contains("a b")); }
"#;
    let found: Vec<usize> = parse_backs(text).into_iter().map(|(l, _)| l).collect();
    assert_eq!(found, [3, 4, 5, 7]);
}
