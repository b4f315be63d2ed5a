//! Logging setup: JSON lines on Lambda, readable text on a terminal.
//!
//! The level comes from Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the function's
//! logging configuration) or `RUST_LOG`, defaulting to `info`, and applies to
//! this crate only. Every dependency stays at `warn` whatever the level: SDK
//! internals at debug would log signing details (the canonical request carries
//! the session token header), and one request should stay a handful of lines.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once at start.
pub fn init() {
    let filter = match std::env::var("RUST_LOG") {
        // A developer's explicit directives win, verbatim.
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
    .unwrap_or_else(|| EnvFilter::new("warn,cross_region_param=info,crp=info"));
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = on_lambda
        || std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    // A subscriber already installed (tests) is fine.
    drop(result);
}
