//! What `crp plan PATH` plans: a template file is one stack; a CDK cloud
//! assembly directory (`cdk.out`) is every `aws:cloudformation:stack`
//! artifact its `manifest.json` lists (nested assemblies of CDK stages
//! included), each named by its stack name and placed in its environment.

use std::collections::HashSet;
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
pub enum PlanInputError {
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
pub fn stacks(path: &Path, defaults: &TemplateDefaults) -> Result<Vec<Stack>, PlanInputError> {
    if path.is_dir() {
        let root = path.canonicalize().map_err(|e| PlanInputError::Assembly {
            input: path.display().to_string(),
            problem: format!("cannot read it: {e}"),
        })?;
        let mut walk = Walk {
            root: root.clone(),
            visited: HashSet::new(),
            out: Vec::new(),
        };
        walk.assembly(&root, 0)?;
        let mut out = walk.out;
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

/// The largest `manifest.json` read: far above any CDK writes.
const MANIFEST_MAX: u64 = 16 * 1024 * 1024;

/// One cloud assembly being read: every path it names stays inside `root`
/// (symlinks resolved), and each nested assembly is read once.
struct Walk {
    root: PathBuf,
    visited: HashSet<PathBuf>,
    out: Vec<Stack>,
}

fn problem(input: &Path, problem: String) -> PlanInputError {
    PlanInputError::Assembly {
        input: input.display().to_string(),
        problem,
    }
}

impl Walk {
    /// `relative`, named by the manifest in `dir`, resolved (symlinks
    /// included) and refused unless it stays inside the assembly.
    fn inside(
        &self,
        dir: &Path,
        relative: &str,
        manifest: &Path,
    ) -> Result<PathBuf, PlanInputError> {
        let named = Path::new(relative);
        if named.is_absolute() {
            return Err(problem(
                manifest,
                format!(
                    "'{}' is an absolute path; a cloud assembly names its files relative to itself",
                    escaped(relative)
                ),
            ));
        }
        let resolved = dir.join(named).canonicalize().map_err(|e| {
            problem(
                manifest,
                format!("'{}': cannot read it: {e}", escaped(relative)),
            )
        })?;
        if !resolved.starts_with(&self.root) {
            return Err(problem(
                manifest,
                format!(
                    "'{}' leads outside the cloud assembly ({}); only files inside it are read",
                    escaped(relative),
                    self.root.display()
                ),
            ));
        }
        Ok(resolved)
    }

    fn assembly(&mut self, dir: &Path, depth: usize) -> Result<(), PlanInputError> {
        if !self.visited.insert(dir.to_path_buf()) {
            return Err(problem(
                dir,
                "a nested assembly leads back to an assembly already read (a cycle); CDK never writes one, so the manifest was edited by hand".to_owned(),
            ));
        }
        let manifest_path = dir.join("manifest.json");
        if !manifest_path.exists() {
            return Err(problem(
                dir,
                "a directory without manifest.json: not a CDK cloud assembly (run `cdk synth` first, or name a template file)".to_owned(),
            ));
        }
        let manifest_path = self.inside(dir, "manifest.json", &manifest_path)?;
        let text = template::read_capped(&manifest_path, MANIFEST_MAX)
            .map_err(|e| problem(&manifest_path, format!("cannot read it: {e}")))?;
        let manifest: Value = serde_json::from_str(&text)
            .map_err(|e| problem(&manifest_path, format!("not valid JSON: {e}")))?;
        let Some(artifacts) = manifest.get("artifacts").and_then(Value::as_object) else {
            return Ok(());
        };
        for (id, artifact) in artifacts {
            self.artifact(dir, &manifest_path, id, artifact, depth)?;
        }
        Ok(())
    }

    fn artifact(
        &mut self,
        dir: &Path,
        manifest_path: &Path,
        id: &str,
        artifact: &Value,
        depth: usize,
    ) -> Result<(), PlanInputError> {
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
                        manifest_path,
                        format!("stack artifact {} names no templateFile", escaped(id)),
                    ));
                };
                let path = self.inside(dir, &file, manifest_path)?;
                let template = template::load(&path)?;
                let name = text_property("stackName").unwrap_or_else(|| id.to_owned());
                let (account, region) = environment(artifact.get("environment"));
                self.out.push(Stack {
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
                    let nested = self.inside(dir, &nested, manifest_path)?;
                    self.assembly(&nested, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A manifest's text as an error shows it: control characters escaped.
fn escaped(text: &str) -> String {
    let shown: String = text
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    shown
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
