//! The response body CloudFormation reads from the ResponseURL.
//!
//! CloudFormation rejects a body over 4096 bytes, and a rejected body leaves
//! the stack waiting for an hour. So the body is measured here: Data that does
//! not fit is refused with its size and largest keys, and a long `Reason` is cut
//! to fit.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};

/// CloudFormation's limit on the response body.
pub const MAX_BODY_BYTES: usize = 4096;

/// SUCCESS or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The resource resolved (or was deleted).
    Success,
    /// It did not; `Reason` says why.
    Failed,
}

impl Status {
    /// The name CloudFormation uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
        }
    }
}

/// What to tell CloudFormation about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// Why (always set; on SUCCESS a short summary).
    pub reason: String,
    /// The physical resource id.
    pub physical_resource_id: String,
    /// Data for `!GetAtt`.
    pub data: BTreeMap<String, String>,
    /// Mask Data in CloudFormation's outputs and events.
    pub no_echo: bool,
}

/// Echoed request fields.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    /// `StackId`.
    pub stack_id: String,
    /// `RequestId`.
    pub request_id: String,
    /// `LogicalResourceId`.
    pub logical_resource_id: String,
}

/// An answer whose Data would not fit in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// The size the body would have had.
    pub size: usize,
    /// The largest Data entries, largest first: (key, bytes of key and value).
    pub largest: Vec<(String, usize)>,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .largest
            .iter()
            .map(|(k, n)| format!("{k} ({n} bytes)"))
            .collect();
        write!(
            f,
            "the response would be {} bytes, over CloudFormation's {MAX_BODY_BYTES}-byte limit; largest keys: {}; read fewer or smaller values per resource (split it into several resources)",
            self.size,
            keys.join(", ")
        )
    }
}

/// A resource that asks for more Data keys than any answer could carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyKeys {
    /// Data keys the resource asks for.
    pub keys: usize,
    /// The size of the answer with every value empty.
    pub least: usize,
}

impl std::fmt::Display for TooManyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the resource asks for {} Data keys; even with every value empty the response would be {} bytes, over CloudFormation's {MAX_BODY_BYTES}-byte limit, so nothing was read; read fewer values per resource (split it into several resources)",
            self.keys, self.least
        )
    }
}

/// Refuses, before anything is read, Data keys that could never fit: the
/// body they would need with every value empty and the shortest `Reason`.
/// Linear in the keys.
pub fn keys_fit(
    echo: &Echo,
    physical_resource_id: &str,
    keys: &[String],
) -> Result<(), TooManyKeys> {
    // A quick bound first: each key costs at least `"k":"",`.
    let floor: usize = keys.iter().map(|k| k.len() + 6).sum();
    if floor <= MAX_BODY_BYTES / 2 {
        return Ok(());
    }
    let answer = Answer {
        status: Status::Success,
        reason: String::new(),
        physical_resource_id: physical_resource_id.to_owned(),
        data: keys.iter().map(|k| (k.clone(), String::new())).collect(),
        no_echo: false,
    };
    let least = encode(echo, &answer, "").len();
    if least <= MAX_BODY_BYTES {
        Ok(())
    } else {
        Err(TooManyKeys {
            keys: answer.data.len(),
            least,
        })
    }
}

/// Serialises `answer` for CloudFormation, within the size limit.
///
/// Data that does not fit is an error (never silently truncated); the caller
/// turns it into a FAILED answer. `Reason` alone is cut to fit.
pub fn body(echo: &Echo, answer: &Answer) -> Result<Vec<u8>, TooLarge> {
    let full = encode(echo, answer, &answer.reason);
    if full.len() <= MAX_BODY_BYTES {
        return Ok(full);
    }
    let without_reason = encode(echo, answer, "");
    if without_reason.len() > MAX_BODY_BYTES {
        let mut largest: Vec<(String, usize)> = answer
            .data
            .iter()
            .map(|(k, v)| (k.clone(), k.len() + v.len()))
            .collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(3);
        return Err(TooLarge {
            size: full.len(),
            largest,
        });
    }
    // Cut the reason until the body fits; JSON escaping can grow a character,
    // so measure rather than compute.
    let mut room = MAX_BODY_BYTES.saturating_sub(without_reason.len());
    loop {
        let cut = truncate(&answer.reason, room);
        let encoded = encode(echo, answer, &cut);
        if encoded.len() <= MAX_BODY_BYTES || room == 0 {
            return Ok(encoded);
        }
        room = room
            .saturating_sub(encoded.len() - MAX_BODY_BYTES)
            .min(room - 1);
    }
}

/// The body of a FAILED answer, which is never empty and always fits: when
/// even Data-less it would not (echoed fields made of characters JSON must
/// escape), the echoed fields are cut, then dropped.
pub fn failed_body(echo: &Echo, answer: &Answer) -> Vec<u8> {
    let mut answer = answer.clone();
    answer.data.clear();
    if let Ok(body) = body(echo, &answer) {
        return body;
    }
    let cut = |s: &str| truncate(s, 128);
    let short = Echo {
        stack_id: cut(&echo.stack_id),
        request_id: cut(&echo.request_id),
        logical_resource_id: cut(&echo.logical_resource_id),
    };
    answer.physical_resource_id = cut(&answer.physical_resource_id);
    if let Ok(body) = body(&short, &answer) {
        return body;
    }
    answer.physical_resource_id.clear();
    body(&Echo::default(), &answer)
        .unwrap_or_else(|_| encode(&Echo::default(), &answer, "internal error"))
}

/// At most `max` bytes of `s`, cut on a character boundary, marked when cut.
pub fn truncate(s: &str, max: usize) -> String {
    const MARK: &str = " [truncated]";
    if s.len() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(MARK.len());
    let mut end = keep.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s[..end].to_owned();
    if max >= MARK.len() {
        out.push_str(MARK);
    }
    out
}

fn encode(echo: &Echo, answer: &Answer, reason: &str) -> Vec<u8> {
    let mut r = CloudFormationCustomResourceResponse::default();
    r.status = match answer.status {
        Status::Success => CloudFormationCustomResourceResponseStatus::Success,
        Status::Failed => CloudFormationCustomResourceResponseStatus::Failed,
    };
    r.reason = Some(reason.to_owned());
    r.physical_resource_id = answer.physical_resource_id.clone();
    r.stack_id = echo.stack_id.clone();
    r.request_id = echo.request_id.clone();
    r.logical_resource_id = echo.logical_resource_id.clone();
    r.no_echo = answer.no_echo;
    r.data = answer
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<HashMap<_, _>>();
    // Serialising strings and maps of strings cannot fail.
    serde_json::to_vec(&r).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo() -> Echo {
        Echo {
            stack_id: "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/app/1".into(),
            request_id: "r1".into(),
            logical_resource_id: "EdgeAuth".into(),
        }
    }

    fn answer(data: &[(&str, String)], reason: &str) -> Answer {
        Answer {
            status: Status::Success,
            reason: reason.into(),
            physical_resource_id: "crp-x".into(),
            data: data
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            no_echo: false,
        }
    }

    #[test]
    fn body_has_cloudformation_field_names() {
        let b = body(&echo(), &answer(&[("Value", "v".into())], "ok")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["Status"], "SUCCESS");
        assert_eq!(v["PhysicalResourceId"], "crp-x");
        assert_eq!(v["LogicalResourceId"], "EdgeAuth");
        assert_eq!(v["Data"]["Value"], "v");
        assert_eq!(v["NoEcho"], false);
    }

    #[test]
    fn oversized_data_is_refused_with_size_and_largest_keys() {
        let big = "x".repeat(3000);
        let mid = "y".repeat(1500);
        let err = body(
            &echo(),
            &answer(&[("Big", big), ("Mid", mid), ("Small", "z".into())], "ok"),
        )
        .unwrap_err();
        assert!(err.size > MAX_BODY_BYTES);
        assert_eq!(err.largest[0], ("Big".to_owned(), 3003));
        assert_eq!(err.largest[1].0, "Mid");
        let text = err.to_string();
        assert!(text.contains(&format!("would be {} bytes", err.size)));
        assert!(text.contains("Big (3003 bytes), Mid (1503 bytes)"));
    }

    #[test]
    fn keys_that_could_never_fit_are_refused_and_a_few_pass() {
        let few: Vec<String> = (0..20).map(|i| format!("Key{i}")).collect();
        assert_eq!(keys_fit(&echo(), "crp-x", &few), Ok(()));
        let many: Vec<String> = (0..600).map(|i| format!("K{i}")).collect();
        let e = keys_fit(&echo(), "crp-x", &many).unwrap_err();
        assert_eq!(e.keys, 600);
        assert!(e.least > MAX_BODY_BYTES);
        let text = e.to_string();
        assert!(text.contains("asks for 600 Data keys"), "{text}");
        assert!(text.contains("split it into several resources"), "{text}");
    }

    #[test]
    fn a_long_reason_is_cut_to_fit() {
        let reason = "é\"".repeat(4000);
        let mut a = answer(&[], &reason);
        a.status = Status::Failed;
        let b = body(&echo(), &a).unwrap();
        assert!(b.len() <= MAX_BODY_BYTES, "{}", b.len());
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert!(v["Reason"].as_str().unwrap().ends_with("[truncated]"));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        let t = truncate(&"日本".repeat(20), 20);
        assert!(t.len() <= 20 && t.ends_with("[truncated]"));
    }
}
