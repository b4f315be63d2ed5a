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
use tracing_subscriber::filter::{LevelFilter, Targets, filter_fn};
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

/// The filter the settings ask for (`RUST_LOG`, else Lambda's
/// `AWS_LAMBDA_LOG_LEVEL`), before the ceiling applies.
///
/// `RUST_LOG` is read as `target=level` directives and bare levels
/// (tracing-subscriber's `Targets`), not `EnvFilter`'s span and field
/// syntax, which would link a regex engine into the Lambda for a local
/// convenience. Directives it cannot read fall back to the default.
fn requested_filter(rust_log: Option<&str>, lambda_level: Option<&str>) -> Targets {
    // A developer's explicit directives win, under the ceiling.
    if let Some(Ok(targets)) = rust_log.filter(|d| !d.is_empty()).map(str::parse) {
        return targets;
    }
    let level = match lambda_level.map(str::to_ascii_lowercase).as_deref() {
        // Lambda's FATAL has no tracing equivalent.
        Some("fatal") => Level::ERROR,
        Some(other) => other.parse().unwrap_or(Level::INFO),
        None => Level::INFO,
    };
    Targets::new()
        .with_default(Level::WARN)
        .with_targets([("cross_region_param", level), ("crp", level)])
}

/// Installs the global subscriber; call once at start.
pub fn init() {
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = on_lambda
        || std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // The builder's own level (INFO by default) is opened fully: the two
    // filters below decide.
    let builder = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_target(false);
    let requested = requested_filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let ceiling = filter_fn(within_ceiling);
    let result = if json {
        let subscriber = builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .finish()
            .with(requested)
            .with(ceiling);
        tracing::subscriber::set_global_default(subscriber)
    } else {
        let subscriber = builder
            .with_ansi(false)
            .finish()
            .with(requested)
            .with(ceiling);
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

    #[test]
    fn lambda_level_applies_to_own_code_and_dependencies_stay_at_warn() {
        let filter = requested_filter(None, Some("DEBUG"));
        assert!(filter.would_enable("cross_region_param::resolve", &Level::DEBUG));
        assert!(!filter.would_enable("cross_region_param::resolve", &Level::TRACE));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::WARN));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
    }

    #[test]
    fn unset_or_unknown_levels_mean_info_and_fatal_means_error() {
        let long = "d".repeat(100_000);
        for unreadable in [
            None,
            Some(""),
            Some("loud"),
            Some("debug\n"),
            Some("ｄｅｂｕｇ"),
            Some("debug,reqwest=trace"),
            Some(long.as_str()),
        ] {
            let filter = requested_filter(None, unreadable);
            assert!(filter.would_enable("crp", &Level::INFO), "{unreadable:?}");
            assert!(!filter.would_enable("crp", &Level::DEBUG), "{unreadable:?}");
        }
        let fatal = requested_filter(None, Some("FATAL"));
        assert!(fatal.would_enable("crp", &Level::ERROR));
        assert!(!fatal.would_enable("crp", &Level::WARN));
    }

    #[test]
    fn rust_log_directives_win_and_unreadable_ones_fall_back() {
        let filter = requested_filter(
            Some("cross_region_param=trace,reqwest=error"),
            Some("ERROR"),
        );
        assert!(filter.would_enable("cross_region_param::protocol", &Level::TRACE));
        assert!(filter.would_enable("reqwest::connect", &Level::ERROR));
        assert!(!filter.would_enable("reqwest::connect", &Level::WARN));
        // However loud RUST_LOG asks a dependency to be, the ceiling
        // (`within_ceiling`) applies on top; here only the parse is checked.
        let fallback = requested_filter(Some("[span{field=1}]=debug"), None);
        assert!(fallback.would_enable("cross_region_param", &Level::INFO));
        assert!(!fallback.would_enable("cross_region_param", &Level::DEBUG));
    }
}
