//! Logging setup: JSON lines on Lambda, readable text on a terminal.
//!
//! The level comes from Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the function's
//! logging configuration) or `RUST_LOG`, defaulting to `info`. Whatever either
//! says, every dependency is held at `warn` or quieter: at debug and trace they
//! log what must never reach the logs — reqwest the URL it calls (the
//! presigned ResponseURL with its signature), the AWS SDK request and response
//! bodies (decrypted SecureString values) and signing details, lambda_runtime
//! the raw event. `RUST_LOG` can still quieten a dependency, never make it
//! louder than `warn`; this crate's own lines log neither URLs' queries nor
//! values at any level.

use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;

/// The loudest level a dependency may log at, whatever the settings say.
pub const DEPENDENCY_CEILING: Level = Level::WARN;

/// Whether `target` is this crate's own (the library and its binaries).
fn is_own(target: &str) -> bool {
    ["cross_region_param", "crp"].iter().any(|own| {
        target
            .strip_prefix(own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Whether a span or event may be recorded at all: this crate's at any
/// level, a dependency's at [`DEPENDENCY_CEILING`] or quieter.
pub fn within_ceiling(metadata: &Metadata<'_>) -> bool {
    is_own(metadata.target()) || *metadata.level() <= DEPENDENCY_CEILING
}

/// The filter the settings ask for, before the ceiling applies.
fn requested_filter() -> EnvFilter {
    match std::env::var("RUST_LOG") {
        // A developer's explicit directives win, under the ceiling.
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives).ok(),
        _ => {
            let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default();
            let level = match level.to_ascii_lowercase().as_str() {
                "" => "info".to_owned(),
                // Lambda's FATAL has no tracing equivalent.
                "fatal" => "error".to_owned(),
                other => other.to_owned(),
            };
            EnvFilter::try_new(format!("warn,cross_region_param={level},crp={level}")).ok()
        }
    }
    .unwrap_or_else(|| EnvFilter::new("warn,cross_region_param=info,crp=info"))
}

/// Installs the global subscriber; call once at start.
pub fn init() {
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = on_lambda
        || std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(requested_filter())
        .with_target(false);
    let ceiling = filter_fn(within_ceiling);
    let result = if json {
        let subscriber = builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .finish()
            .with(ceiling);
        tracing::subscriber::set_global_default(subscriber)
    } else {
        let subscriber = builder.with_ansi(false).finish().with(ceiling);
        tracing::subscriber::set_global_default(subscriber)
    };
    // A subscriber already installed (tests) is fine.
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_targets_are_recognised_exactly() {
        assert!(is_own("cross_region_param"));
        assert!(is_own("cross_region_param::protocol::transport"));
        assert!(is_own("crp"));
        assert!(!is_own("crpx"));
        assert!(!is_own("cross_region_param_other"));
        assert!(!is_own("lambda_runtime::layers::api_response"));
        assert!(!is_own("reqwest::async_impl::client"));
    }
}
