//! Offline evaluation of a template's intrinsic functions, as far as they are
//! static: literals, `Ref` to parameters (from `--parameter` or their
//! `Default`) and to pseudo parameters the stack's environment knows,
//! `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::If`
//! with its conditions, and `Fn::Base64`.
//!
//! Whatever exists only at deploy time (`Fn::GetAtt`, `Fn::ImportValue`, a
//! `Ref` to a resource, an SSM-typed parameter) is [`Unknown`], with a sentence
//! that says what it waits for; the planner turns that into an `unknown` row.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use thiserror::Error;

/// Why a value cannot be known before deploy (or before more input).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Unknown(pub String);

/// Where a stack will be deployed, as far as it is known.
#[derive(Debug, Clone, Default)]
pub struct StackEnv {
    /// `AWS::StackName`.
    pub stack_name: Option<String>,
    /// `AWS::Region`.
    pub region: Option<String>,
    /// `AWS::AccountId`.
    pub account: Option<String>,
}

impl StackEnv {
    /// `AWS::Partition`, from the provider's one table of partitions.
    fn partition(&self) -> Option<&'static str> {
        self.region
            .as_deref()
            .map(cross_region_param::cli::partition_of)
    }

    /// `AWS::URLSuffix`, from the same table.
    fn url_suffix(&self) -> Option<&'static str> {
        self.region
            .as_deref()
            .map(cross_region_param::cli::url_suffix_of)
    }
}

/// A value, or `None` for `AWS::NoValue` (the key or item is dropped).
type Eval = Result<Option<Value>, Unknown>;

/// Deep enough for any real template; a cycle of conditions stops here.
const MAX_DEPTH: usize = 64;

/// The longest string evaluation may build: CloudFormation's own limit on a
/// template (1 MB); no value of a deployable template comes near it.
pub const STRING_MAX: usize = 1024 * 1024;

/// How many bytes of strings one resource's evaluation may build in all.
pub const BUILD_MAX: usize = 16 * 1024 * 1024;

/// A condition's result, and whether a limit ended its evaluation.
type Remembered = (Result<bool, Unknown>, bool);

/// One stack's template with its parameter values and environment.
///
/// Evaluation is bounded whatever the template: each condition is evaluated
/// once (a DAG of `Fn::And`s that names the next condition twice stays
/// linear), each `Fn::Sub` variable once per `Fn::Sub`, every string built is
/// at most [`STRING_MAX`] and one resource builds at most [`BUILD_MAX`]. Past
/// a limit evaluation gives up, and [`Scope::gave_up`] says why.
#[derive(Debug)]
pub struct Scope<'a> {
    template: &'a Value,
    parameters: BTreeMap<String, Result<Value, Unknown>>,
    env: StackEnv,
    /// Conditions already evaluated, with whether a limit ended them.
    conditions: RefCell<HashMap<String, Remembered>>,
    /// Bytes of strings built for the current resource.
    built: Cell<usize>,
    /// The limit that stopped the current resource's evaluation.
    limit: RefCell<Option<String>>,
}

impl<'a> Scope<'a> {
    /// Parameter values come from `overrides` first, then each `Default`.
    pub fn new(template: &'a Value, overrides: &BTreeMap<String, String>, env: StackEnv) -> Self {
        let mut parameters = BTreeMap::new();
        if let Some(Value::Object(declared)) = template.get("Parameters") {
            for (name, declaration) in declared {
                parameters.insert(name.clone(), parameter_value(name, declaration, overrides));
            }
        }
        Self {
            template,
            parameters,
            env,
            conditions: RefCell::new(HashMap::new()),
            built: Cell::new(0),
            limit: RefCell::new(None),
        }
    }

    /// Starts the evaluation of another resource: its own budget.
    pub fn begin_resource(&self) {
        self.built.set(0);
        self.limit.replace(None);
    }

    /// Why evaluation gave up on the current resource, when a limit stopped it.
    pub fn gave_up(&self) -> Option<String> {
        self.limit.borrow().clone()
    }

    /// Accounts for a string of `len` bytes about to be built; past a limit,
    /// records it and stops the evaluation.
    fn build(&self, what: &str, len: usize) -> Result<(), Unknown> {
        let total = self.built.get().saturating_add(len);
        self.built.set(total);
        let why = if len > STRING_MAX {
            format!(
                "{what} would build a string of more than {STRING_MAX} bytes (CloudFormation's template limit)"
            )
        } else if total > BUILD_MAX {
            format!("evaluating it would build more than {BUILD_MAX} bytes of strings")
        } else {
            return Ok(());
        };
        let mut limit = self.limit.borrow_mut();
        if limit.is_none() {
            *limit = Some(why.clone());
        }
        Err(Unknown(why))
    }

    /// Evaluates `value` with every intrinsic function it holds.
    pub fn eval(&self, value: &Value) -> Eval {
        self.eval_depth(value, 0)
    }

    /// Whether the named condition of the template holds.
    pub fn condition(&self, name: &str) -> Result<bool, Unknown> {
        self.named_condition(name, 0)
    }

    fn eval_depth(&self, value: &Value, depth: usize) -> Eval {
        if depth > MAX_DEPTH {
            return Err(Unknown("the template nests too deeply to evaluate".into()));
        }
        match value {
            Value::Object(map) => {
                if map.len() == 1
                    && let Some((name, arg)) = map.iter().next()
                    && (name == "Ref" || name.starts_with("Fn::"))
                {
                    return self.intrinsic(name, arg, depth + 1);
                }
                let mut out = Map::new();
                for (key, item) in map {
                    if let Some(v) = self.eval_depth(item, depth + 1)? {
                        out.insert(key.clone(), v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.eval_depth(item, depth + 1)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    /// A value that must be there (`AWS::NoValue` is not one).
    fn value(&self, value: &Value, depth: usize) -> Result<Value, Unknown> {
        self.eval_depth(value, depth)?
            .ok_or_else(|| Unknown("AWS::NoValue where a value is needed".into()))
    }

    fn string(&self, value: &Value, depth: usize) -> Result<String, Unknown> {
        scalar_text(&self.value(value, depth)?)
    }

    fn list(&self, value: &Value, depth: usize) -> Result<Vec<Value>, Unknown> {
        match self.value(value, depth)? {
            Value::Array(items) => Ok(items),
            other => Err(Unknown(format!("expected a list, found {other}"))),
        }
    }

    fn intrinsic(&self, name: &str, arg: &Value, depth: usize) -> Eval {
        match name {
            "Ref" => match arg {
                Value::String(target) => self.reference(target),
                other => Err(Unknown(format!("Ref takes a name, found {other}"))),
            },
            "Fn::Sub" => self.sub(arg, depth).map(|s| Some(Value::String(s))),
            "Fn::Join" => {
                let [delimiter, items] = pair(name, arg)?;
                let delimiter = self.string(delimiter, depth)?;
                let parts = self
                    .list(items, depth)?
                    .iter()
                    .map(scalar_text)
                    .collect::<Result<Vec<_>, _>>()?;
                let len = parts.iter().map(String::len).sum::<usize>()
                    + delimiter.len().saturating_mul(parts.len());
                self.build("Fn::Join", len)?;
                Ok(Some(Value::String(parts.join(&delimiter))))
            }
            "Fn::Select" => {
                let [index, items] = pair(name, arg)?;
                let index = self.string(index, depth)?;
                let items = self.list(items, depth)?;
                let position: usize = index
                    .trim()
                    .parse()
                    .map_err(|_| Unknown(format!("Fn::Select index '{index}' is not a number")))?;
                items.get(position).cloned().map(Some).ok_or_else(|| {
                    Unknown(format!(
                        "Fn::Select index {position} is out of range ({} items)",
                        items.len()
                    ))
                })
            }
            "Fn::Split" => {
                let [delimiter, source] = pair(name, arg)?;
                let delimiter = self.string(delimiter, depth)?;
                let source = self.string(source, depth)?;
                if delimiter.is_empty() {
                    return Err(Unknown("Fn::Split with an empty delimiter".into()));
                }
                Ok(Some(Value::Array(
                    source
                        .split(delimiter.as_str())
                        .map(|s| Value::String(s.to_owned()))
                        .collect(),
                )))
            }
            "Fn::FindInMap" => self.find_in_map(arg, depth).map(Some),
            "Fn::If" => {
                let Some([condition, then, otherwise]) = arg.as_array().and_then(|a| {
                    <&[Value; 3]>::try_from(a.as_slice())
                        .ok()
                        .map(|a| [&a[0], &a[1], &a[2]])
                }) else {
                    return Err(Unknown(format!(
                        "Fn::If takes [condition, then, else], found {arg}"
                    )));
                };
                let Value::String(condition) = condition else {
                    return Err(Unknown(format!(
                        "Fn::If names a condition, found {condition}"
                    )));
                };
                if self.named_condition(condition, depth)? {
                    self.eval_depth(then, depth)
                } else {
                    self.eval_depth(otherwise, depth)
                }
            }
            "Fn::Base64" => {
                let text = self.string(arg, depth)?;
                self.build("Fn::Base64", text.len() / 3 * 4 + 4)?;
                Ok(Some(Value::String(aws_smithy_types::base64::encode(
                    text.as_bytes(),
                ))))
            }
            "Fn::GetAtt" => Err(Unknown(format!(
                "!GetAtt {} is known only after deploy",
                getatt_name(arg)
            ))),
            "Fn::ImportValue" => {
                let export = self.string(arg, depth).unwrap_or_else(|_| arg.to_string());
                Err(Unknown(format!(
                    "!ImportValue {export} is read from another stack at deploy"
                )))
            }
            "Fn::GetAZs" => Err(Unknown("!GetAZs asks AWS at deploy".into())),
            other => Err(Unknown(format!("{other} is not evaluated offline"))),
        }
    }

    fn reference(&self, target: &str) -> Eval {
        let env = &self.env;
        let known = |value: Option<&str>, what: &str| match value {
            Some(v) => Ok(Some(Value::String(v.to_owned()))),
            None => Err(Unknown(format!("{target} is not known here ({what})"))),
        };
        match target {
            "AWS::NoValue" => Ok(None),
            "AWS::Region" => known(
                env.region.as_deref(),
                "give the stack an environment, or set AWS_REGION",
            ),
            "AWS::AccountId" => known(
                env.account.as_deref(),
                "give the stack an environment with an account",
            ),
            "AWS::StackName" => known(env.stack_name.as_deref(), "pass --stack-name"),
            "AWS::Partition" => known(env.partition(), "the region is not known"),
            "AWS::URLSuffix" => known(env.url_suffix(), "the region is not known"),
            "AWS::StackId" | "AWS::NotificationARNs" => {
                Err(Unknown(format!("{target} is known only at deploy")))
            }
            _ => match self.parameters.get(target) {
                Some(Ok(value)) => Ok(Some(value.clone())),
                Some(Err(why)) => Err(why.clone()),
                None if self.is_resource(target) => Err(Unknown(format!(
                    "!Ref {target} names a resource, known only after deploy"
                ))),
                None => Err(Unknown(format!(
                    "!Ref {target} names no parameter or resource of the template"
                ))),
            },
        }
    }

    fn is_resource(&self, name: &str) -> bool {
        self.template
            .get("Resources")
            .and_then(|r| r.get(name))
            .is_some()
    }

    fn sub(&self, arg: &Value, depth: usize) -> Result<String, Unknown> {
        let (text, variables) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
                (Value::String(s), Value::Object(vars)) => (s.as_str(), Some(vars)),
                _ => {
                    return Err(Unknown(format!(
                        "Fn::Sub takes a string or [string, {{variables}}], found {arg}"
                    )));
                }
            },
            other => {
                return Err(Unknown(format!(
                    "Fn::Sub takes a string or [string, {{variables}}], found {other}"
                )));
            }
        };
        let mut out = String::with_capacity(text.len());
        // Each variable is evaluated once, however often the text uses it.
        let mut evaluated: HashMap<&str, String> = HashMap::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // No closing brace: CloudFormation keeps the text as it is.
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let inner = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = inner.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let name = inner.trim();
            if let Some(value) = variables.and_then(|v| v.get(name)) {
                if !evaluated.contains_key(name) {
                    let text = self.string(value, depth)?;
                    evaluated.insert(name, text);
                }
                let text = evaluated.get(name).map_or("", String::as_str);
                self.build("Fn::Sub", out.len() + text.len())?;
                out.push_str(text);
            } else if name.contains('.') {
                return Err(Unknown(format!(
                    "!Sub uses ${{{name}}}, an attribute known only after deploy"
                )));
            } else {
                let value = self.reference(name)?.ok_or_else(|| {
                    Unknown(format!("!Sub uses ${{{name}}}, which is AWS::NoValue"))
                })?;
                let text = scalar_text(&value)?;
                self.build("Fn::Sub", out.len() + text.len())?;
                out.push_str(&text);
            }
        }
        out.push_str(rest);
        self.build("Fn::Sub", out.len())?;
        Ok(out)
    }

    fn find_in_map(&self, arg: &Value, depth: usize) -> Result<Value, Unknown> {
        let items = arg
            .as_array()
            .filter(|a| a.len() == 3 || a.len() == 4)
            .ok_or_else(|| {
                Unknown(format!(
                    "Fn::FindInMap takes [map, top key, second key], found {arg}"
                ))
            })?;
        let map = self.string(&items[0], depth)?;
        let top = self.string(&items[1], depth)?;
        let second = self.string(&items[2], depth)?;
        let found = self
            .template
            .get("Mappings")
            .and_then(|m| m.get(&map))
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second));
        match (found, items.get(3)) {
            (Some(value), _) => Ok(value.clone()),
            (None, Some(Value::Object(options))) if options.contains_key("DefaultValue") => {
                self.value(&options["DefaultValue"], depth)
            }
            (None, _) => Err(Unknown(format!(
                "Fn::FindInMap: mapping {map} has no {top}.{second}"
            ))),
        }
    }

    fn named_condition(&self, name: &str, depth: usize) -> Result<bool, Unknown> {
        if let Some((known, limited)) = self.conditions.borrow().get(name) {
            if *limited && self.limit.borrow().is_none() {
                self.limit
                    .replace(known.clone().err().map(|Unknown(why)| why));
            }
            return known.clone();
        }
        let limited_before = self.limit.borrow().is_some();
        let result = self.evaluate_condition(name, depth);
        // A result cut short by the depth limit belongs to the chain that
        // reached it, not to the condition: only complete ones are kept.
        if depth == 0 || result.is_ok() {
            let limited = !limited_before && self.limit.borrow().is_some();
            self.conditions
                .borrow_mut()
                .insert(name.to_owned(), (result.clone(), limited));
        }
        result
    }

    fn evaluate_condition(&self, name: &str, depth: usize) -> Result<bool, Unknown> {
        if depth > MAX_DEPTH {
            return Err(Unknown(format!("condition {name} refers to itself")));
        }
        let definition = self
            .template
            .get("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| Unknown(format!("condition {name} is not defined")))?;
        self.condition_value(definition, depth + 1)
            .map_err(|Unknown(why)| Unknown(format!("condition {name}: {why}")))
    }

    fn condition_value(&self, value: &Value, depth: usize) -> Result<bool, Unknown> {
        if depth > MAX_DEPTH {
            return Err(Unknown("conditions nest too deeply".into()));
        }
        let Some((name, arg)) = value
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next())
        else {
            return match value {
                Value::Bool(b) => Ok(*b),
                other => Err(Unknown(format!("not a condition: {other}"))),
            };
        };
        let operands = || {
            arg.as_array()
                .ok_or_else(|| Unknown(format!("{name} takes a list, found {arg}")))
        };
        match name.as_str() {
            "Condition" => match arg {
                Value::String(other) => self.named_condition(other, depth),
                other => Err(Unknown(format!("Condition takes a name, found {other}"))),
            },
            "Fn::Equals" => {
                let [a, b] = pair(name, arg)?;
                Ok(self.string(a, depth)? == self.string(b, depth)?)
            }
            "Fn::Not" => match operands()?.as_slice() {
                [one] => Ok(!self.condition_value(one, depth + 1)?),
                _ => Err(Unknown(format!("Fn::Not takes one condition, found {arg}"))),
            },
            "Fn::And" => {
                for c in operands()? {
                    if !self.condition_value(c, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in operands()? {
                    if self.condition_value(c, depth + 1)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(Unknown(format!("{other} is not a condition function"))),
        }
    }
}

/// A parameter's value: the override, else its `Default`, in the form a `Ref`
/// gives (a list for list types).
fn parameter_value(
    name: &str,
    declaration: &Value,
    overrides: &BTreeMap<String, String>,
) -> Result<Value, Unknown> {
    let kind = declaration
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("String");
    if kind.starts_with("AWS::SSM::Parameter::Value<") {
        return Err(Unknown(format!(
            "parameter {name} ({kind}) is read from SSM at deploy"
        )));
    }
    let raw = match (overrides.get(name), declaration.get("Default")) {
        (Some(v), _) => v.clone(),
        (None, Some(default)) => match default {
            Value::Array(items) => items
                .iter()
                .map(scalar_text)
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => scalar_text(other)?,
        },
        (None, None) => {
            return Err(Unknown(format!(
                "parameter {name} has no Default: pass --parameter {name}=VALUE"
            )));
        }
    };
    if kind == "CommaDelimitedList" || kind.starts_with("List<") {
        Ok(Value::Array(
            raw.split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .collect(),
        ))
    } else {
        Ok(Value::String(raw))
    }
}

/// The text CloudFormation would send for a scalar.
fn scalar_text(value: &Value) -> Result<String, Unknown> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(Unknown(format!("expected a string, found {other}"))),
    }
}

/// Every scalar as the string CloudFormation hands a custom resource
/// (`true` becomes `"true"`, `3` becomes `"3"`).
pub fn as_cloudformation_sends(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(as_cloudformation_sends).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, as_cloudformation_sends(v)))
                .collect(),
        ),
        other => other,
    }
}

fn pair<'v>(name: &str, arg: &'v Value) -> Result<[&'v Value; 2], Unknown> {
    match arg.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([a, b]),
        _ => Err(Unknown(format!("{name} takes two arguments, found {arg}"))),
    }
}

fn getatt_name(arg: &Value) -> String {
    match arg {
        Value::Array(parts) => parts
            .iter()
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("."),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "Parameters": {
                "Env": {"Type": "String", "Default": "prod"},
                "Count": {"Type": "Number", "Default": 3},
                "Names": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
                "NoDefault": {"Type": "String"},
                "Bootstrap": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}
            },
            "Mappings": {"Regions": {"us-east-1": {"Suffix": "use1"}}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [{"Condition": "NotProd"}, true]}]}
            },
            "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}
        })
    }

    fn env() -> StackEnv {
        StackEnv {
            stack_name: Some("App".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
        }
    }

    fn eval(v: Value) -> Eval {
        let t = template();
        let overrides = BTreeMap::new();
        Scope::new(&t, &overrides, env()).eval(&v)
    }

    #[test]
    fn refs_to_parameters_and_pseudo_parameters_resolve() {
        assert_eq!(eval(json!({"Ref": "Env"})).unwrap(), Some(json!("prod")));
        assert_eq!(eval(json!({"Ref": "Count"})).unwrap(), Some(json!("3")));
        assert_eq!(
            eval(json!({"Ref": "Names"})).unwrap(),
            Some(json!(["a", "b", "c"]))
        );
        assert_eq!(
            eval(json!({"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:x/${AWS::StackName}.${AWS::URLSuffix}"}))
                .unwrap(),
            Some(json!("arn:aws:ssm:us-east-1:123456789012:x/App.amazonaws.com"))
        );
    }

    #[test]
    fn an_override_wins_over_the_default() {
        let t = template();
        let overrides = BTreeMap::from([("Env".to_owned(), "dev".to_owned())]);
        let scope = Scope::new(&t, &overrides, env());
        assert_eq!(
            scope.eval(&json!({"Fn::Sub": "/${Env}/x"})).unwrap(),
            Some(json!("/dev/x"))
        );
        assert!(!scope.condition("IsProd").unwrap());
    }

    #[test]
    fn sub_join_select_split_find_in_map_and_base64_evaluate() {
        assert_eq!(
            eval(json!({"Fn::Sub": ["${A}-${Env}-${!Literal}", {"A": {"Ref": "Count"}}]})).unwrap(),
            Some(json!("3-prod-${Literal}"))
        );
        assert_eq!(
            eval(json!({"Fn::Join": ["/", ["", {"Ref": "Env"}, "x"]]})).unwrap(),
            Some(json!("/prod/x"))
        );
        assert_eq!(
            eval(json!({"Fn::Select": ["1", {"Ref": "Names"}]})).unwrap(),
            Some(json!("b"))
        );
        assert_eq!(
            eval(json!({"Fn::Select": [2, {"Fn::Split": [",", "x,y,z"]}]})).unwrap(),
            Some(json!("z"))
        );
        assert_eq!(
            eval(json!({"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Suffix"]})).unwrap(),
            Some(json!("use1"))
        );
        assert_eq!(
            eval(json!({"Fn::FindInMap": ["Regions", "eu-west-1", "Suffix", {"DefaultValue": "other"}]}))
                .unwrap(),
            Some(json!("other"))
        );
        assert_eq!(
            eval(json!({"Fn::Base64": "hi"})).unwrap(),
            Some(json!("aGk="))
        );
    }

    #[test]
    fn if_and_conditions_pick_a_branch_and_no_value_drops_the_key() {
        let v = eval(json!({
            "A": {"Fn::If": ["IsProd", "yes", "no"]},
            "B": {"Fn::If": ["NotProd", "x", {"Ref": "AWS::NoValue"}]},
            "C": {"Fn::If": ["Both", "both", "no"]},
        }))
        .unwrap();
        assert_eq!(v, Some(json!({"A": "yes", "C": "both"})));
    }

    #[test]
    fn deploy_time_values_are_unknown_with_a_reason() {
        let why = |v: Value| eval(v).unwrap_err().0;
        assert!(why(json!({"Fn::GetAtt": ["Bucket", "Arn"]})).contains("!GetAtt Bucket.Arn"));
        assert!(why(json!({"Ref": "Bucket"})).contains("names a resource"));
        assert!(why(json!({"Fn::ImportValue": "X"})).contains("!ImportValue X"));
        assert!(why(json!({"Fn::Sub": "${Bucket.Arn}/x"})).contains("${Bucket.Arn}"));
        assert!(why(json!({"Ref": "NoDefault"})).contains("--parameter NoDefault=VALUE"));
        assert!(why(json!({"Ref": "Bootstrap"})).contains("read from SSM at deploy"));
        assert!(why(json!({"Ref": "AWS::StackId"})).contains("only at deploy"));
        assert!(why(json!({"Ref": "Nope"})).contains("no parameter or resource"));
    }

    #[test]
    fn pseudo_parameters_without_an_environment_are_unknown() {
        let t = template();
        let scope = Scope::new(&t, &BTreeMap::new(), StackEnv::default());
        let e = scope.eval(&json!({"Ref": "AWS::Region"})).unwrap_err().0;
        assert!(e.contains("AWS::Region is not known"), "{e}");
        let e = scope.eval(&json!({"Ref": "AWS::StackName"})).unwrap_err().0;
        assert!(e.contains("--stack-name"), "{e}");
    }

    #[test]
    fn a_condition_cycle_is_unknown_not_a_hang() {
        let t = json!({
            "Conditions": {"A": {"Condition": "B"}, "B": {"Condition": "A"}},
            "Resources": {}
        });
        let scope = Scope::new(&t, &BTreeMap::new(), StackEnv::default());
        assert!(scope.condition("A").is_err());
    }

    #[test]
    fn cloudformation_sends_every_scalar_as_a_string() {
        assert_eq!(
            as_cloudformation_sends(json!({"A": true, "B": 3, "C": {"D": 1.5}, "E": ["x", 2]})),
            json!({"A": "true", "B": "3", "C": {"D": "1.5"}, "E": ["x", "2"]})
        );
    }
}
