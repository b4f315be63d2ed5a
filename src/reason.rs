//! Small helpers for writing Reasons: how several problems are listed, and how
//! a value a user typed is quoted without letting a huge one fill the answer.
//!
//! A leaf: used by properties, sources and resolution alike, using nothing
//! above itself.

use std::fmt::Display;

/// The longest stretch of a user's value a Reason quotes; the rest is summarised.
const QUOTE_MAX: usize = 80;

/// `(1) first<separator>(2) second…`: how a Reason lists several problems.
pub(crate) fn numbered<T: Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("({}) {item}", i + 1))
        .collect::<Vec<_>>()
        .join(separator)
}

/// `value` as a Reason shows it: whole when short, otherwise its start and its
/// length, so one oversized property cannot push every other problem out of
/// CloudFormation's 4096-byte answer.
pub(crate) fn quote(value: &str) -> String {
    if value.chars().count() <= QUOTE_MAX {
        return value.to_owned();
    }
    let start: String = value.chars().take(QUOTE_MAX).collect();
    format!("{start}… ({} characters)", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_numbered_from_one() {
        assert_eq!(numbered(&["a", "b"], "; "), "(1) a; (2) b");
    }

    #[test]
    fn long_values_are_cut_and_their_length_named() {
        assert_eq!(quote("/short"), "/short");
        let long = quote(&"x".repeat(5_000_000));
        assert!(long.ends_with("… (5000000 characters)"), "{long}");
        assert!(long.len() < 120);
    }
}
