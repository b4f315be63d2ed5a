//! Small helpers for writing Reasons: how several problems are listed, and how
//! a value a user typed is quoted without letting a huge one fill the answer.
//!
//! A leaf: used by properties, sources and resolution alike, using nothing
//! above itself.

use std::fmt::Display;

/// The longest stretch of a user's value a Reason quotes; the rest is summarised.
const QUOTE_MAX: usize = 80;

/// How many bytes a list inside a Reason may take: with the rest of the
/// Reason and the echoed fields, the answer stays within CloudFormation's
/// 4096-byte body, so the advice after a list is never cut off.
pub(crate) const LIST_BUDGET: usize = 1500;

/// `(1) first<separator>(2) second…`: how a Reason lists several problems,
/// within [`LIST_BUDGET`] (see [`listed`]).
pub(crate) fn numbered<T: Display>(items: &[T], separator: &str) -> String {
    let shown: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("({}) {item}", i + 1))
        .collect();
    listed(&shown, separator, LIST_BUDGET)
}

/// `a, b, c`: the items joined by `separator`, and when they would take
/// more than `budget` bytes, as many as fit followed by `and N more`. Only
/// the list is ever cut, never what follows it in the Reason; an item too
/// long for the budget on its own is cut and marked.
pub(crate) fn listed<T: Display>(items: &[T], separator: &str, budget: usize) -> String {
    let mut out = String::new();
    for (shown, item) in items.iter().enumerate() {
        let text = item.to_string();
        let more = items.len() - shown;
        let tail = format!(" and {more} more");
        let sep = if shown == 0 { "" } else { separator };
        let last = more == 1;
        let room_needed = sep.len() + text.len() + if last { 0 } else { tail.len() };
        if out.len() + room_needed > budget {
            if shown == 0 {
                // Not even one item fits whole: show its start.
                out.push_str(&cut(&text, budget / 2));
                if !last {
                    out.push_str(&format!(" and {} more", more - 1));
                }
            } else {
                out.push_str(&tail);
            }
            return out;
        }
        out.push_str(sep);
        out.push_str(&text);
    }
    out
}

/// At most about `max` bytes of `s`, cut on a character boundary; when cut,
/// followed by `… (N bytes)`. For log fields and list items a user's input
/// could make arbitrarily long.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
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
    fn a_long_list_is_cut_with_a_count_and_a_short_one_is_whole() {
        assert_eq!(listed(&["a", "b", "c"], ", ", 100), "a, b, c");
        let names: Vec<String> = (0..400).map(|i| format!("/nope/n{i}")).collect();
        let shown = listed(&names, ", ", 60);
        assert!(shown.starts_with("/nope/n0, /nope/n1"), "{shown}");
        assert!(shown.ends_with(" more"), "{shown}");
        assert!(shown.len() <= 60, "{}", shown.len());
        let count: usize = shown
            .rsplit(" and ")
            .next()
            .and_then(|t| t.strip_suffix(" more"))
            .unwrap()
            .parse()
            .unwrap();
        let listed_items = shown.matches("/nope/").count();
        assert_eq!(listed_items + count, 400, "{shown}");
        let huge = listed(&["x".repeat(10_000), "y".into()], ", ", 100);
        assert!(huge.len() < 130 && huge.ends_with("and 1 more"), "{huge}");
    }

    #[test]
    fn cut_keeps_short_text_and_names_the_length_of_long_text() {
        assert_eq!(cut("short", 10), "short");
        let c = cut(&"日本".repeat(100), 10);
        assert!(c.starts_with("日本日") && c.ends_with("(600 bytes)"), "{c}");
    }

    #[test]
    fn long_values_are_cut_and_their_length_named() {
        assert_eq!(quote("/short"), "/short");
        let long = quote(&"x".repeat(5_000_000));
        assert!(long.ends_with("… (5000000 characters)"), "{long}");
        assert!(long.len() < 120);
    }
}
