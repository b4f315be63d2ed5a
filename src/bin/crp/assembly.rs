//! What `crp plan PATH` plans: a template file is one stack; a CDK cloud
//! assembly directory (`cdk.out`) is every `aws:cloudformation:stack`
//! artifact its `manifest.json` lists (nested assemblies of CDK stages
//! included), each named by its stack name and placed in its environment.

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use crate::evaluate::StackEnv;
use crate::template::{self, TemplateError};

/// One stack to plan.
#[derive(Debug)]
pub struct Stack {
    /// The name shown (the stack name, or the template file's stem).
    pub label: String,
    /// The template, in JSON form.
    pub template: Value,
    /// Where it will be deployed, as far as it is known.
    pub env: StackEnv,
}

/// A path that cannot be planned.
#[derive(Debug, Error)]
pub enum SourceError {
    /// A template that cannot be read.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A cloud assembly that cannot be read.
    #[error("{input}: {problem}")]
    Assembly {
        /// The directory or manifest.
        input: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// What the caller knows about a single template's stack.
#[derive(Debug, Clone, Default)]
pub struct TemplateDefaults {
    /// `--stack-name`.
    pub stack_name: Option<String>,
    /// The caller's region (a template is deployed there unless told otherwise).
    pub region: Option<String>,
}

/// The stacks at `path`.
pub fn stacks(path: &Path, defaults: &TemplateDefaults) -> Result<Vec<Stack>, SourceError> {
    if path.is_dir() {
        let mut out = Vec::new();
        read_assembly(path, &mut out, 0)?;
        out.sort_by(|a, b| a.label.cmp(&b.label));
        return Ok(out);
    }
    let template = template::load(path)?;
    let label = defaults.stack_name.clone().unwrap_or_else(|| {
        path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    Ok(vec![Stack {
        label,
        template,
        env: StackEnv {
            stack_name: defaults.stack_name.clone(),
            region: defaults.region.clone(),
            account: None,
        },
    }])
}

/// Nested assemblies deeper than this are not followed (CDK nests one level
/// per stage).
const MAX_NESTING: usize = 8;

fn read_assembly(dir: &Path, out: &mut Vec<Stack>, depth: usize) -> Result<(), SourceError> {
    let manifest_path = dir.join("manifest.json");
    let problem = |input: &Path, problem: String| SourceError::Assembly {
        input: input.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            problem(
                dir,
                "a directory without manifest.json: not a CDK cloud assembly (run `cdk synth` first, or name a template file)".to_owned(),
            )
        } else {
            problem(&manifest_path, format!("cannot read it: {e}"))
        }
    })?;
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| problem(&manifest_path, format!("not valid JSON: {e}")))?;
    let Some(artifacts) = manifest.get("artifacts").and_then(Value::as_object) else {
        return Ok(());
    };
    for (id, artifact) in artifacts {
        let properties = artifact.get("properties");
        let text_property = |key: &str| {
            properties
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match artifact.get("type").and_then(Value::as_str) {
            Some("aws:cloudformation:stack") => {
                let Some(file) = text_property("templateFile") else {
                    return Err(problem(
                        &manifest_path,
                        format!("stack artifact {id} names no templateFile"),
                    ));
                };
                let template = template::load(&dir.join(&file))?;
                let name = text_property("stackName").unwrap_or_else(|| id.clone());
                let (account, region) = environment(artifact.get("environment"));
                out.push(Stack {
                    label: name.clone(),
                    template,
                    env: StackEnv {
                        stack_name: Some(name),
                        region,
                        account,
                    },
                });
            }
            Some("cdk:cloud-assembly") if depth < MAX_NESTING => {
                if let Some(nested) = text_property("directoryName") {
                    read_assembly(&PathBuf::from(dir).join(nested), out, depth + 1)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `aws://ACCOUNT/REGION`, where CDK writes `unknown-account` and
/// `unknown-region` for an environment-agnostic stack.
fn environment(value: Option<&Value>) -> (Option<String>, Option<String>) {
    let Some(rest) = value
        .and_then(Value::as_str)
        .and_then(|e| e.strip_prefix("aws://"))
    else {
        return (None, None);
    };
    let (account, region) = rest.split_once('/').unwrap_or((rest, ""));
    let known = |s: &str| (!s.is_empty() && !s.starts_with("unknown-")).then(|| s.to_owned());
    (known(account), known(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_name_account_and_region_unless_unknown() {
        let env = |s: &str| environment(Some(&Value::String(s.into())));
        assert_eq!(
            env("aws://123456789012/us-east-1"),
            (Some("123456789012".into()), Some("us-east-1".into()))
        );
        assert_eq!(env("aws://unknown-account/unknown-region"), (None, None));
        assert_eq!(environment(None), (None, None));
    }

    #[test]
    fn a_directory_without_a_manifest_is_named_as_such() {
        let dir = std::env::temp_dir().join(format!("crp-plan-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = stacks(&dir, &TemplateDefaults::default())
            .unwrap_err()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("not a CDK cloud assembly"), "{e}");
        assert!(e.contains("crp-plan-empty"), "{e}");
    }
}
