//! Reading what can be read of an event that serde_json refuses.
//!
//! CloudFormation's events are JSON, but an event can still be one serde_json
//! will not take whole: a property nested deeper than its 128-level limit, a
//! lone surrogate escape (`"\ud800"`), a number out of `f64` range (`1e400`),
//! bytes that are not UTF-8. Its `ResponseURL` may still be intact, and an
//! event with a ResponseURL must be answered, or the stack waits an hour.
//!
//! So this module walks the top-level object without building it: it finds
//! each member's key and the byte span of its value, skipping nested values
//! with a depth counter (no recursion, so no depth limit and no stack to
//! overflow). Each value is then read on its own by serde_json; the caller
//! keeps those that read and names those that did not. Strings that serde_json
//! refuses can be decoded lossily, for fields that are only echoed back.

/// One top-level member: its key and the raw bytes of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// The key, decoded lossily.
    pub key: String,
    /// The value's bytes, exactly as they appear in the event.
    pub value: &'a [u8],
}

/// The members of the top-level object, in order, as far as the event could
/// be walked. `None` when it does not start as a JSON object.
pub fn members(raw: &[u8]) -> Option<Vec<Member<'_>>> {
    let mut at = skip_ws(raw, 0);
    if raw.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    let mut found = Vec::new();
    loop {
        at = skip_ws(raw, at);
        match raw.get(at) {
            Some(b'"') => {}
            // The end of the object, or something that is not a key: either
            // way, what was found so far is all there is.
            _ => return Some(found),
        }
        let Some(key_end) = skip_string(raw, at) else {
            return Some(found);
        };
        let key = lossy_string(&raw[at..key_end]).unwrap_or_default();
        at = skip_ws(raw, key_end);
        if raw.get(at) != Some(&b':') {
            return Some(found);
        }
        at = skip_ws(raw, at + 1);
        let Some(value_end) = skip_value(raw, at) else {
            return Some(found);
        };
        found.push(Member {
            key,
            value: &raw[at..value_end],
        });
        at = skip_ws(raw, value_end);
        match raw.get(at) {
            Some(b',') => at += 1,
            _ => return Some(found),
        }
    }
}

fn skip_ws(raw: &[u8], mut at: usize) -> usize {
    while matches!(raw.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// `at` is on an opening quote; returns the index just past the closing one.
fn skip_string(raw: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < raw.len() {
        match raw[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Returns the index just past the value starting at `at`.
fn skip_value(raw: &[u8], at: usize) -> Option<usize> {
    match raw.get(at)? {
        b'"' => skip_string(raw, at),
        b'{' | b'[' => {
            let mut depth: usize = 0;
            let mut i = at;
            while i < raw.len() {
                match raw[i] {
                    b'"' => {
                        i = skip_string(raw, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            // A number or a literal: up to the next delimiter.
            let mut i = at;
            while i < raw.len()
                && !matches!(raw[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            (i > at).then_some(i)
        }
    }
}

/// Decodes a JSON string literal (quotes included) whatever serde_json would
/// say of it: a lone surrogate and invalid UTF-8 become U+FFFD. `None` when
/// the bytes are not a string literal at all.
pub fn lossy_string(literal: &[u8]) -> Option<String> {
    let inner = literal.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut out = String::with_capacity(inner.len());
    let mut plain_from = 0;
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&inner[plain_from..i]));
        let escape = inner.get(i + 1).copied();
        i += 2;
        match escape {
            Some(b'"') => out.push('"'),
            Some(b'\\') => out.push('\\'),
            Some(b'/') => out.push('/'),
            Some(b'b') => out.push('\u{8}'),
            Some(b'f') => out.push('\u{c}'),
            Some(b'n') => out.push('\n'),
            Some(b'r') => out.push('\r'),
            Some(b't') => out.push('\t'),
            Some(b'u') => {
                let (c, used) = unicode_escape(inner, i);
                out.push(c);
                i += used;
            }
            _ => out.push(char::REPLACEMENT_CHARACTER),
        }
        plain_from = i.min(inner.len());
    }
    if plain_from < inner.len() {
        out.push_str(&String::from_utf8_lossy(&inner[plain_from..]));
    }
    Some(out)
}

/// Reads the hex digits after `\u` at `at`, pairing surrogates where the
/// next escape completes them. Returns the character and the bytes used.
fn unicode_escape(s: &[u8], at: usize) -> (char, usize) {
    let Some(high) = hex4(s, at) else {
        return (char::REPLACEMENT_CHARACTER, 0);
    };
    if (0xD800..0xDC00).contains(&high)
        && s.get(at + 4) == Some(&b'\\')
        && s.get(at + 5) == Some(&b'u')
        && let Some(low) = hex4(s, at + 6)
        && (0xDC00..0xE000).contains(&low)
    {
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        return (
            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
            10,
        );
    }
    (
        char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER),
        4,
    )
}

fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(s.get(at..at + 4)?).ok()?;
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(raw: &[u8]) -> Vec<String> {
        members(raw).unwrap().into_iter().map(|m| m.key).collect()
    }

    #[test]
    fn members_are_found_past_values_serde_json_refuses() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let raw = format!(
            r#"{{"A": "x", "Deep": {deep}, "Big": 1e400, "Lone": "\ud800", "B": {{"k": "}}]"}}, "C": true}}"#
        );
        assert_eq!(keys(raw.as_bytes()), ["A", "Deep", "Big", "Lone", "B", "C"]);
        let m = members(raw.as_bytes()).unwrap();
        assert_eq!(m[0].value, br#""x""#);
        assert_eq!(m[2].value, b"1e400");
        assert_eq!(m[4].value, br#"{"k": "}]"}"#);
    }

    #[test]
    fn invalid_utf8_does_not_stop_the_walk() {
        let mut raw = br#"{"A": ""#.to_vec();
        raw.extend_from_slice(&[0xff, 0xfe]);
        raw.extend_from_slice(br#"", "B": "y"}"#);
        assert_eq!(keys(&raw), ["A", "B"]);
    }

    #[test]
    fn truncated_events_keep_what_came_before() {
        assert_eq!(keys(br#"{"A": "x", "B": [1, 2"#), ["A"]);
        assert!(members(b"[1]").is_none());
        assert!(members(b"").is_none());
    }

    #[test]
    fn lossy_strings_replace_only_what_is_broken() {
        assert_eq!(lossy_string(br#""a\"b\n""#).unwrap(), "a\"b\n");
        assert_eq!(lossy_string(br#""\ud800x""#).unwrap(), "\u{fffd}x");
        assert_eq!(lossy_string(br#""\ud83d\ude00""#).unwrap(), "😀");
        assert_eq!(lossy_string(b"\"a\xffb\"").unwrap(), "a\u{fffd}b");
        assert_eq!(lossy_string(br#""\u12""#).unwrap(), "\u{fffd}12");
        assert!(lossy_string(b"12").is_none());
    }
}
