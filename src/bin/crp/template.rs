//! Reading a CloudFormation or SAM template, YAML or JSON, into the JSON form
//! CloudFormation itself works on.
//!
//! YAML templates use short-form tags (`!Ref X`, `!Sub ...`, `!GetAtt A.B`);
//! the YAML crate hands them over as tagged values, and [`to_json`] maps each
//! tag to its long form (`{"Ref": "X"}`, `{"Fn::Sub": ...}`,
//! `{"Fn::GetAtt": ["A", "B"]}`), so the evaluator only ever sees one form.

use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;
use thiserror::Error;

/// A template that could not be read.
#[derive(Debug, Error)]
#[error("{input}: {kind}")]
pub struct TemplateError {
    /// The file, as named on the command line.
    pub input: String,
    /// What was wrong with it.
    pub kind: TemplateErrorKind,
}

/// The largest template CloudFormation accepts (from S3): larger input is
/// refused before it is read.
pub const TEMPLATE_MAX: u64 = 1024 * 1024;

/// How large a YAML template may grow once its aliases are expanded:
/// about 8 times [`TEMPLATE_MAX`], in text bytes plus a small cost per node.
pub const EXPANDED_MAX: usize = 8 * 1024 * 1024;

/// What was wrong with a template file.
#[derive(Debug, Error)]
pub enum TemplateErrorKind {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Read(#[from] std::io::Error),
    /// Not a regular file (a device, a FIFO, a directory).
    #[error("not a regular file; name a template file")]
    NotAFile,
    /// Larger than CloudFormation accepts.
    #[error("{size} bytes, larger than the {max} bytes CloudFormation accepts for a template")]
    TooLarge {
        /// The file's size (at least).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Refused by the first pass over its YAML (a tag, an alias expansion).
    #[error("{0}")]
    Refused(#[from] crate::yaml_scan::ScanRefusal),
    /// Not JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// A short-form tag used in a way CloudFormation rejects too.
    #[error("{0}")]
    Tag(String),
    /// Parsed, but there is no `Resources` map.
    #[error("not a CloudFormation template (no Resources section)")]
    NotATemplate,
}

/// Reads the template at `path`: JSON when it looks like JSON, YAML otherwise.
pub fn load(path: &std::path::Path) -> Result<Value, TemplateError> {
    let fail = |kind| TemplateError {
        input: path.display().to_string(),
        kind,
    };
    let text = read_capped(path, TEMPLATE_MAX).map_err(fail)?;
    let template = parse(&text).map_err(fail)?;
    if !template.get("Resources").is_some_and(Value::is_object) {
        return Err(fail(TemplateErrorKind::NotATemplate));
    }
    Ok(template)
}

/// Reads the regular file at `path` (symlinks followed), refusing anything
/// else, or more than `max` bytes, before reading it: `/dev/zero` or a FIFO
/// named as a template must not hang or exhaust the run.
pub fn read_capped(path: &std::path::Path, max: u64) -> Result<String, TemplateErrorKind> {
    use std::io::Read as _;
    // Checked before opening: opening a FIFO would block.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(TemplateErrorKind::NotAFile);
    }
    if meta.len() > max {
        return Err(TemplateErrorKind::TooLarge {
            size: meta.len(),
            max,
        });
    }
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(TemplateErrorKind::NotAFile);
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    let size = bytes.len() as u64;
    if size > max {
        return Err(TemplateErrorKind::TooLarge { size, max });
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e).into())
}

/// Parses template text (JSON or YAML with CloudFormation's tags). YAML is
/// scanned first ([`crate::yaml_scan`]): unknown tags and alias expansions
/// past [`EXPANDED_MAX`] are refused before anything is built.
pub fn parse(text: &str) -> Result<Value, TemplateErrorKind> {
    if text.len() as u64 > TEMPLATE_MAX {
        return Err(TemplateErrorKind::TooLarge {
            size: text.len() as u64,
            max: TEMPLATE_MAX,
        });
    }
    if text.trim_start().starts_with('{') {
        return Ok(serde_json::from_str(text)?);
    }
    crate::yaml_scan::scan(text, EXPANDED_MAX)?;
    let yaml: Yaml = serde_norway::from_str(text)?;
    to_json(yaml)
}

/// Converts YAML to JSON, expanding CloudFormation's short-form tags.
pub fn to_json(yaml: Yaml) -> Result<Value, TemplateErrorKind> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                map.insert(key_text(key)?, to_json(value)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            expand(tag.trim_start_matches('!'), tagged.value)?
        }
    })
}

/// The long form of `!name value`.
fn expand(name: &str, value: Yaml) -> Result<Value, TemplateErrorKind> {
    let inner = to_json(value)?;
    Ok(match name {
        "Ref" => single("Ref", inner),
        "Condition" => single("Condition", inner),
        // `!GetAtt Resource.Attribute` splits at the first dot; the list
        // form passes through.
        "GetAtt" => match inner {
            Value::String(s) => {
                let Some((resource, attribute)) = s.split_once('.') else {
                    return Err(TemplateErrorKind::Tag(format!(
                        "!GetAtt '{s}' must be Resource.Attribute"
                    )));
                };
                single(
                    "Fn::GetAtt",
                    Value::Array(vec![resource.into(), attribute.into()]),
                )
            }
            other => single("Fn::GetAtt", other),
        },
        "Base64" | "Cidr" | "Equals" | "FindInMap" | "GetAZs" | "If" | "ImportValue" | "Join"
        | "Not" | "And" | "Or" | "Select" | "Split" | "Sub" | "Transform" | "Length"
        | "ToJsonString" | "ForEach" => single(&format!("Fn::{name}"), inner),
        other => {
            return Err(TemplateErrorKind::Tag(format!(
                "unknown tag !{other} (CloudFormation knows !Ref, !Sub, !GetAtt, !Join, !If, ...)"
            )));
        }
    })
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

fn number(n: &serde_norway::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn key_text(key: Yaml) -> Result<String, TemplateErrorKind> {
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Null => Ok("null".to_owned()),
        other => Err(TemplateErrorKind::Tag(format!(
            "a mapping key must be a scalar, found {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(text: &str) -> Value {
        parse(text).unwrap()
    }

    #[test]
    fn short_form_tags_become_their_long_form() {
        let v = yaml(
            r#"
a: !Ref Env
b: !Sub "/${Env}/x"
c: !GetAtt Bucket.Arn
d: !GetAtt [Bucket, Arn]
e: !ImportValue CrossRegionParam-ServiceToken
f: !Join [",", [a, !Ref B]]
g: !If [IsProd, x, !Ref AWS::NoValue]
h: !Select [0, !Split [",", "a,b"]]
i: !FindInMap [M, !Ref AWS::Region, k]
j: !Equals [!Ref Env, prod]
k: !Not [!Condition IsProd]
l: !And [!Condition A, !Or [!Condition B, !Condition C]]
m: !Base64 text
n: !Cidr [10.0.0.0/16, 4, 8]
o: !GetAZs ""
p: !Transform {Name: AWS::Include}
"#,
        );
        assert_eq!(v["a"], json!({"Ref": "Env"}));
        assert_eq!(v["b"], json!({"Fn::Sub": "/${Env}/x"}));
        assert_eq!(v["c"], json!({"Fn::GetAtt": ["Bucket", "Arn"]}));
        assert_eq!(v["d"], json!({"Fn::GetAtt": ["Bucket", "Arn"]}));
        assert_eq!(
            v["e"],
            json!({"Fn::ImportValue": "CrossRegionParam-ServiceToken"})
        );
        assert_eq!(v["f"], json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]}));
        assert_eq!(
            v["g"],
            json!({"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            v["h"],
            json!({"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]})
        );
        assert_eq!(
            v["i"],
            json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]})
        );
        assert_eq!(v["j"], json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]}));
        assert_eq!(v["k"], json!({"Fn::Not": [{"Condition": "IsProd"}]}));
        assert_eq!(
            v["l"],
            json!({"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Condition": "C"}]}]})
        );
        assert_eq!(v["m"], json!({"Fn::Base64": "text"}));
        assert_eq!(v["n"], json!({"Fn::Cidr": ["10.0.0.0/16", 4, 8]}));
        assert_eq!(v["o"], json!({"Fn::GetAZs": ""}));
        assert_eq!(v["p"], json!({"Fn::Transform": {"Name": "AWS::Include"}}));
    }

    #[test]
    fn block_style_tags_and_plain_values_keep_their_shape() {
        let v = yaml(
            "AWSTemplateFormatVersion: 2010-09-09\nx: !Sub\n  - '${A}-${B}'\n  - A: 1\n    B: !Ref C\nn: 3\nt: true\n",
        );
        assert_eq!(v["AWSTemplateFormatVersion"], "2010-09-09");
        assert_eq!(
            v["x"],
            json!({"Fn::Sub": ["${A}-${B}", {"A": 1, "B": {"Ref": "C"}}]})
        );
        assert_eq!(v["n"], 3);
        assert_eq!(v["t"], true);
    }

    #[test]
    fn json_templates_are_read_as_json() {
        let v = parse(r#"{"Resources": {"A": {"Type": "X"}}}"#).unwrap();
        assert_eq!(v["Resources"]["A"]["Type"], "X");
    }

    #[test]
    fn a_secondary_tag_is_an_error_not_a_plain_value() {
        // Not read as the list ["ls"] with the tag dropped.
        let e = parse("Region: !!python/object/apply:os.system [ls]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown tag !!python/object/apply:os.system"),
            "{e}"
        );
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn alias_amplification_and_oversized_text_are_refused() {
        // 1,000 scalars of 100 bytes, each aliased 100 times: 11 MB expanded.
        let mut text = String::from("a:\n");
        for i in 0..1000 {
            text.push_str(&format!("  - &s{i} {}\n", "x".repeat(100)));
        }
        text.push_str("b:\n");
        for i in 0..1000 {
            text.push_str(&format!(
                "  - [{}]\n",
                vec![format!("*s{i}"); 100].join(", ")
            ));
        }
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("aliases expand to more than"), "{e}");
        let big = format!("a: {}\n", "x".repeat(TEMPLATE_MAX as usize));
        let e = parse(&big).unwrap_err().to_string();
        assert!(e.contains("larger than the 1048576 bytes"), "{e}");
    }

    #[test]
    fn an_unknown_tag_or_a_getatt_without_a_dot_is_an_error() {
        let e = parse("a: !Reff X\n").unwrap_err().to_string();
        assert!(e.contains("unknown tag !Reff"), "{e}");
        let e = parse("a: !GetAtt Bucket\n").unwrap_err().to_string();
        assert!(e.contains("Resource.Attribute"), "{e}");
    }
}
