//! Deterministic physical resource ids.
//!
//! The id hashes the region, the resource's inputs in canonical form (typed
//! values in a fixed order, from [`ResourceProperties::canonical_inputs`]) and
//! the identity of what was resolved (parameter names and versions, version
//! ARNs, output values; never a secret's value). It is stable while the values
//! are, whatever the order of keys in the template or in serde_json's maps, and
//! changes when they change, which CloudFormation treats as a replacement: on
//! rollback it restores the old resource and its old Data by itself.

use sha2::{Digest, Sha256};

use crate::properties::ResourceProperties;

/// Prefix of every id this provider issues.
pub const PREFIX: &str = "crp";

/// The id answered for a failed Create, so the Delete CloudFormation sends
/// next is recognisable and the stack never shows a half-made resource.
pub const CREATE_FAILED: &str = "crp-create-failed";

/// The id answered for a failed Update. It differs from every id a resource
/// can hold, so CloudFormation sees a replacement that failed: its rollback
/// keeps the previous resource and its Data as they are and sends this id a
/// Delete (which succeeds without a call). Answering with the given id would
/// instead make the rollback send an Update with the previous properties,
/// which reads again and fails again whenever the newest value is the one
/// that failed (a refused Lambda@Edge version), ending in
/// `UPDATE_ROLLBACK_FAILED`.
pub const UPDATE_FAILED: &str = "crp-update-failed";

impl ResourceProperties {
    /// The physical id of this resource once it resolved to `identity`.
    pub fn physical_id(&self, identity: &[String]) -> String {
        from_inputs(&self.region, &self.canonical_inputs(), identity)
    }
}

fn from_inputs(region: &str, inputs: &[String], identity: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"v2\0");
    hasher.update(region.as_bytes());
    hasher.update(b"\0");
    for input in inputs {
        hasher.update(input.as_bytes());
        hasher.update(b"\0");
    }
    hasher.update(b"\x01");
    for part in identity {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}-{region}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ident(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The id of `properties` (valid ones: only those are ever resolved).
    fn physical_id(properties: &Value, identity: &[String]) -> String {
        ResourceProperties::parse(properties)
            .unwrap()
            .physical_id(identity)
    }

    #[test]
    fn same_inputs_and_values_give_the_same_id() {
        let props = json!({"Region": "us-east-1", "ParameterName": "/a"});
        let a = physical_id(&props, &ident(&["SSM:/a@3"]));
        let b = physical_id(&props, &ident(&["SSM:/a@3"]));
        assert_eq!(a, b);
        assert!(a.starts_with("crp-us-east-1-"));
        assert_eq!(a.len(), "crp-us-east-1-".len() + 32);
    }

    #[test]
    fn a_new_version_changes_the_id() {
        let props = json!({"Region": "us-east-1", "ParameterName": "/a"});
        assert_ne!(
            physical_id(&props, &ident(&["SSM:/a@3"])),
            physical_id(&props, &ident(&["SSM:/a@4"]))
        );
    }

    #[test]
    fn refresh_and_service_token_do_not_change_the_id() {
        let a = json!({"Region": "us-east-1", "ParameterName": "/a", "Refresh": "1", "ServiceToken": "x"});
        let b = json!({"Region": "us-east-1", "ParameterName": "/a", "Refresh": "2", "ServiceToken": "y"});
        let id = ident(&["SSM:/a@3"]);
        assert_eq!(physical_id(&a, &id), physical_id(&b, &id));
    }

    /// The same object with its keys inserted in reverse order, at every level.
    fn reversed(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map.iter().rev() {
                    out.insert(k.clone(), reversed(v));
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    #[test]
    fn key_order_at_any_level_never_changes_the_id() {
        // serde_json keeps insertion order here (`preserve_order` is on in the
        // dependency graph, through the AWS SDK), so this is what CloudFormation's
        // key order would do; the hash must not follow it.
        let props = json!({
            "Region": "us-east-1",
            "Parameters": {"A": "/a", "B": "/b:2", "C": "/c:prod"},
            "FunctionName": "auth",
            "NoEcho": "true",
        });
        let flipped = reversed(&props);
        assert_ne!(
            props.to_string(),
            flipped.to_string(),
            "the test needs order-keeping maps"
        );
        let id = ident(&["SSM:/a@1"]);
        assert_eq!(physical_id(&props, &id), physical_id(&flipped, &id));
    }

    #[test]
    fn equivalent_spellings_give_the_same_id() {
        let id = ident(&["SSM:/a@3"]);
        let a = json!({"Region": "us-east-1", "ParameterName": "/a", "NoEcho": "TRUE"});
        let b = json!({"Region": "us-east-1", "ParameterName": " /a ", "NoEcho": true});
        assert_eq!(physical_id(&a, &id), physical_id(&b, &id));
    }

    #[test]
    fn other_inputs_or_region_change_the_id() {
        let id = ident(&["SSM:/a@3"]);
        let a = json!({"Region": "us-east-1", "ParameterName": "/a"});
        let b = json!({"Region": "us-east-1", "ParameterName": "/a", "NoEcho": "true"});
        assert_ne!(physical_id(&a, &id), physical_id(&b, &id));
        let west = json!({"Region": "us-west-2", "ParameterName": "/a"});
        assert_ne!(physical_id(&a, &id), physical_id(&west, &id));
    }
}
