//! Logging setup: JSON lines on Lambda, readable text on a terminal.
//!
//! The level comes from Lambda's `AWS_LAMBDA_LOG_LEVEL` (set by the function's
//! logging configuration) or `RUST_LOG`, defaulting to `info`. SDK and HTTP
//! internals are kept at `warn` so one request stays a handful of lines.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once at start.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_owned())
        .to_ascii_lowercase();
    let filter = EnvFilter::try_new(format!(
        "{level},aws_smithy_runtime=warn,aws_config=warn,hyper=warn,reqwest=warn,rustls=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new("info"));
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
