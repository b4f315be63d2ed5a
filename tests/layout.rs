//! The code's shape, checked: layers only point down, and no function in
//! `src/` is longer than 100 lines. Reads the source files; needs no AWS.

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
