//! Deterministic physical resource ids.
//!
//! The id hashes the region, the properties that drive resolution and the
//! identity of what was resolved (parameter names and versions, version ARNs,
//! output values; never a secret's value). It is stable while the values are,
//! and changes when they change, which CloudFormation treats as a replacement:
//! on rollback it restores the old resource and its old Data by itself.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::properties::IGNORED_FOR_IDENTITY;

/// Prefix of every id this provider issues.
pub const PREFIX: &str = "crp";

/// The id answered for a failed Create, so the Delete CloudFormation sends
/// next is recognisable and the stack never shows a half-made resource.
pub const CREATE_FAILED: &str = "crp-create-failed";

/// The id for a resource that resolved to `identity` from `properties`.
///
/// `Refresh`, `ServiceToken` and `ServiceTimeout` are left out: changing them
/// must re-resolve, but must not replace the resource unless a value moved.
pub fn physical_id(region: &str, properties: &Value, identity: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"v1\0");
    hasher.update(region.as_bytes());
    hasher.update(b"\0");
    if let Value::Object(map) = properties {
        // serde_json's map is ordered by key, so this is canonical.
        for (key, value) in map {
            if IGNORED_FOR_IDENTITY.contains(&key.as_str()) {
                continue;
            }
            hasher.update(key.as_bytes());
            hasher.update(b"=");
            hasher.update(value.to_string().as_bytes());
            hasher.update(b"\0");
        }
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
    use serde_json::json;

    fn ident(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn same_inputs_and_values_give_the_same_id() {
        let props = json!({"Region": "us-east-1", "ParameterName": "/a"});
        let a = physical_id("us-east-1", &props, &ident(&["SSM:/a@3"]));
        let b = physical_id("us-east-1", &props, &ident(&["SSM:/a@3"]));
        assert_eq!(a, b);
        assert!(a.starts_with("crp-us-east-1-"));
        assert_eq!(a.len(), "crp-us-east-1-".len() + 32);
    }

    #[test]
    fn a_new_version_changes_the_id() {
        let props = json!({"Region": "us-east-1", "ParameterName": "/a"});
        assert_ne!(
            physical_id("us-east-1", &props, &ident(&["SSM:/a@3"])),
            physical_id("us-east-1", &props, &ident(&["SSM:/a@4"]))
        );
    }

    #[test]
    fn refresh_and_service_token_do_not_change_the_id() {
        let a = json!({"Region": "us-east-1", "ParameterName": "/a", "Refresh": "1", "ServiceToken": "x"});
        let b = json!({"Region": "us-east-1", "ParameterName": "/a", "Refresh": "2", "ServiceToken": "y"});
        let id = ident(&["SSM:/a@3"]);
        assert_eq!(
            physical_id("us-east-1", &a, &id),
            physical_id("us-east-1", &b, &id)
        );
    }

    #[test]
    fn other_inputs_or_region_change_the_id() {
        let id = ident(&["SSM:/a@3"]);
        let a = json!({"Region": "us-east-1", "ParameterName": "/a"});
        let b = json!({"Region": "us-east-1", "ParameterName": "/a", "NoEcho": "true"});
        assert_ne!(
            physical_id("us-east-1", &a, &id),
            physical_id("us-east-1", &b, &id)
        );
        assert_ne!(
            physical_id("us-east-1", &a, &id),
            physical_id("us-west-2", &a, &id)
        );
    }
}
