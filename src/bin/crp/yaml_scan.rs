//! A first pass over a YAML template, before anything is built from it.
//!
//! serde_norway expands every alias into a copy of its anchor, and its own
//! limit only stops exponential bombs: 30 KB of YAML (a few thousand
//! scalars, each aliased a few thousand times) still grew past 2 GB. And it
//! drops tags that are not local (`!!python/object/apply:...` reads as a
//! plain list), where CloudFormation refuses the template. So the events of
//! libyaml's own parser (the very parser serde_norway uses, so both passes
//! read the same document) are walked once here: each tag is checked, and
//! the size the document would have once every alias is expanded is added
//! up as it goes, stopping at the first event past the limit. Linear in the
//! input; nothing is allocated per alias.
//!
//! The unsafe code is confined to [`Events`], a thin owner of libyaml's
//! parser state: it initialises it, hands out one event at a time as plain
//! values, and frees it.

use std::collections::HashMap;
use std::mem::MaybeUninit;

use unsafe_libyaml_norway as unsafe_sys;

/// What one node adds to the expanded size besides its text: roughly what a
/// node costs once built.
const NODE_COST: usize = 16;

/// The core schema's tags (`!!str`, ...): harmless spellings of what an
/// untagged node already is.
const CORE_TAGS: &[&str] = &["str", "int", "float", "bool", "null", "seq", "map"];

/// libyaml's expansion of `!!`.
const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// Why a YAML document is refused before it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanRefusal {
    /// A tag CloudFormation does not know, with its 1-based line.
    Tag {
        /// The tag, as written (`!!python/...`).
        tag: String,
        /// Where.
        line: usize,
    },
    /// An alias that refers to its own anchor.
    RecursiveAlias {
        /// Where.
        line: usize,
    },
    /// Expanding the aliases would make the document larger than `limit`.
    TooLarge {
        /// The limit, in the units of [`NODE_COST`] plus text bytes.
        limit: usize,
        /// Where the limit was crossed.
        line: usize,
    },
}

impl std::fmt::Display for ScanRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tag { tag, line } => write!(
                f,
                "line {line}: unknown tag {tag}; CloudFormation knows only its own short forms (!Ref, !Sub, !GetAtt, ...) and the core !!str, !!int, !!float, !!bool, !!null, !!seq, !!map"
            ),
            Self::RecursiveAlias { line } => {
                write!(f, "line {line}: an alias refers to the node that holds it")
            }
            Self::TooLarge { limit, line } => write!(
                f,
                "line {line}: its aliases expand to more than {limit} bytes (about 8 times CloudFormation's 1 MB template limit); expand fewer aliases"
            ),
        }
    }
}

impl std::error::Error for ScanRefusal {}

/// Checks `text`'s tags and bounds its expanded size by `limit`. A syntax
/// error ends the pass quietly: the YAML reader reports it, better.
pub fn scan(text: &str, limit: usize) -> Result<(), ScanRefusal> {
    let mut events = Events::new(text.as_bytes());
    let mut expanded: usize = 0;
    // Anchors whose node is still open: (name, size when it opened).
    let mut open: Vec<(Option<Vec<u8>>, usize)> = Vec::new();
    let mut anchors: HashMap<Vec<u8>, usize> = HashMap::new();
    while let Some(event) = events.next() {
        let line = event.line;
        if let Some(tag) = &event.tag {
            check_tag(tag, line)?;
        }
        match event.kind {
            Kind::Scalar(length) => {
                let cost = NODE_COST.saturating_add(length);
                expanded = expanded.saturating_add(cost);
                if let Some(anchor) = event.anchor {
                    anchors.insert(anchor, cost);
                }
            }
            Kind::Start => {
                open.push((event.anchor, expanded));
                expanded = expanded.saturating_add(NODE_COST);
            }
            Kind::End => {
                if let Some((Some(anchor), at_start)) = open.pop() {
                    anchors.insert(anchor, expanded - at_start);
                }
            }
            Kind::Alias(name) => {
                if open
                    .iter()
                    .any(|(a, _)| a.as_deref() == Some(name.as_slice()))
                {
                    return Err(ScanRefusal::RecursiveAlias { line });
                }
                let cost = anchors.get(&name).copied().unwrap_or(NODE_COST);
                expanded = expanded.saturating_add(cost);
            }
            Kind::Other => {}
        }
        if expanded > limit {
            return Err(ScanRefusal::TooLarge { limit, line });
        }
    }
    Ok(())
}

fn check_tag(tag: &str, line: usize) -> Result<(), ScanRefusal> {
    // Local tags (`!Ref`) are CloudFormation's short forms; the reader
    // names an unknown one itself.
    if tag.starts_with('!') {
        return Ok(());
    }
    if let Some(core) = tag.strip_prefix(CORE_PREFIX) {
        if CORE_TAGS.contains(&core) {
            return Ok(());
        }
        return Err(ScanRefusal::Tag {
            tag: shown(&format!("!!{core}")),
            line,
        });
    }
    Err(ScanRefusal::Tag {
        tag: shown(&format!("!<{tag}>")),
        line,
    })
}

/// A tag as an error shows it: control characters escaped, cut when long.
fn shown(tag: &str) -> String {
    let escaped: String = tag.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() <= 80 {
        return escaped;
    }
    let start: String = escaped.chars().take(80).collect();
    format!("{start}…")
}

/// What one libyaml event says, copied out of the parser.
struct Event {
    kind: Kind,
    tag: Option<String>,
    anchor: Option<Vec<u8>>,
    line: usize,
}

enum Kind {
    /// A scalar of this many bytes.
    Scalar(usize),
    /// A sequence or a mapping opens.
    Start,
    /// A sequence or a mapping closes.
    End,
    /// An alias to this anchor.
    Alias(Vec<u8>),
    /// Stream and document boundaries.
    Other,
}

/// libyaml's event parser over borrowed input, freed on drop.
struct Events<'input> {
    parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    _input: &'input [u8],
    initialised: bool,
    done: bool,
}

impl<'input> Events<'input> {
    fn new(input: &'input [u8]) -> Self {
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: the parser is initialised in place on the heap (it must
        // not move once initialised) before any other call. If
        // initialisation fails the parser is never used nor freed (libyaml
        // has freed what it allocated).
        let ok = unsafe { !unsafe_sys::yaml_parser_initialize(parser.as_mut_ptr()).fail };
        if ok {
            // SAFETY: the parser was initialised; `input` outlives it (the
            // lifetime ties them), and libyaml only reads it.
            unsafe {
                unsafe_sys::yaml_parser_set_encoding(
                    parser.as_mut_ptr(),
                    unsafe_sys::YAML_UTF8_ENCODING,
                );
                unsafe_sys::yaml_parser_set_input_string(
                    parser.as_mut_ptr(),
                    input.as_ptr(),
                    input.len() as u64,
                );
            }
        }
        Self {
            parser,
            _input: input,
            initialised: ok,
            done: !ok,
        }
    }

    /// The next event; `None` at the end of the stream or at a syntax error.
    fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let mut raw = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised (`done` is false); on success
        // libyaml fills `raw`, which is read and then deleted exactly once.
        unsafe {
            if unsafe_sys::yaml_parser_parse(self.parser.as_mut_ptr(), raw.as_mut_ptr()).fail {
                self.done = true;
                return None;
            }
            let event = copy_event(&*raw.as_ptr());
            unsafe_sys::yaml_event_delete(raw.as_mut_ptr());
            if event.is_none() {
                self.done = true;
            }
            event
        }
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        if self.initialised {
            // SAFETY: initialised once, deleted once, never used after.
            unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

/// Copies what the scan needs out of a libyaml event; `None` at the end of
/// the stream.
///
/// # Safety
/// `event` must be a valid event just returned by `yaml_parser_parse`.
unsafe fn copy_event(event: &unsafe_sys::yaml_event_t) -> Option<Event> {
    let line = usize::try_from(event.start_mark.line)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // SAFETY: the union field read matches the event's type, and every
    // pointer libyaml sets is a NUL-terminated string or null.
    let (kind, tag, anchor) = unsafe {
        match event.type_ {
            unsafe_sys::YAML_STREAM_END_EVENT => return None,
            unsafe_sys::YAML_SCALAR_EVENT => {
                let s = &event.data.scalar;
                let length = usize::try_from(s.length).unwrap_or(usize::MAX);
                (Kind::Scalar(length), text(s.tag), bytes(s.anchor))
            }
            unsafe_sys::YAML_SEQUENCE_START_EVENT => {
                let s = &event.data.sequence_start;
                (Kind::Start, text(s.tag), bytes(s.anchor))
            }
            unsafe_sys::YAML_MAPPING_START_EVENT => {
                let s = &event.data.mapping_start;
                (Kind::Start, text(s.tag), bytes(s.anchor))
            }
            unsafe_sys::YAML_SEQUENCE_END_EVENT | unsafe_sys::YAML_MAPPING_END_EVENT => {
                (Kind::End, None, None)
            }
            unsafe_sys::YAML_ALIAS_EVENT => (
                Kind::Alias(bytes(event.data.alias.anchor).unwrap_or_default()),
                None,
                None,
            ),
            _ => (Kind::Other, None, None),
        }
    };
    Some(Event {
        kind,
        tag,
        anchor,
        line,
    })
}

/// # Safety
/// `ptr` is null or a NUL-terminated string.
unsafe fn bytes(ptr: *const u8) -> Option<Vec<u8>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    let c = unsafe { std::ffi::CStr::from_ptr(ptr.cast()) };
    Some(c.to_bytes().to_vec())
}

/// # Safety
/// `ptr` is null or a NUL-terminated string.
unsafe fn text(ptr: *const u8) -> Option<String> {
    // SAFETY: as the caller promises.
    unsafe { bytes(ptr) }.map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 8 * 1024 * 1024;

    #[test]
    fn plain_templates_and_cloudformation_tags_pass() {
        let text = "Resources:\n  A:\n    Type: X\n    Properties:\n      N: !Ref P\n      S: !!str 3\n      L: &l [a, b]\n      M: *l\n";
        assert_eq!(scan(text, LIMIT), Ok(()));
    }

    #[test]
    fn a_secondary_or_verbatim_tag_is_refused_with_its_line() {
        let e = scan(
            "a: 1\nRegion: !!python/object/apply:os.system [ls]\n",
            LIMIT,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ScanRefusal::Tag {
                tag: "!!python/object/apply:os.system".into(),
                line: 2
            }
        );
        let e = scan("a: !<tag:example.com,2000:x> 1\n", LIMIT).unwrap_err();
        assert!(e.to_string().contains("!<tag:example.com,2000:x>"), "{e}");
        assert!(matches!(
            scan("a: !!binary aGk=\n", LIMIT),
            Err(ScanRefusal::Tag { .. })
        ));
    }

    #[test]
    fn aliases_are_counted_expanded_and_stop_at_the_limit() {
        // 50 scalars, each aliased 50 times: 2,500 copies.
        let mut text = String::from("anchors:\n");
        for i in 0..50 {
            text.push_str(&format!("  - &a{i} {}\n", "x".repeat(100)));
        }
        text.push_str("uses:\n");
        for i in 0..50 {
            for _ in 0..50 {
                text.push_str(&format!("  - *a{i}\n"));
            }
        }
        assert_eq!(scan(&text, LIMIT), Ok(()));
        let e = scan(&text, 100_000).unwrap_err();
        assert!(
            matches!(e, ScanRefusal::TooLarge { limit: 100_000, .. }),
            "{e}"
        );
    }

    #[test]
    fn nested_aliases_multiply_and_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(matches!(
            scan(&text, LIMIT),
            Err(ScanRefusal::TooLarge { .. })
        ));
    }

    #[test]
    fn a_syntax_error_is_left_to_the_reader() {
        assert_eq!(scan("a: [\n", LIMIT), Ok(()));
    }
}
