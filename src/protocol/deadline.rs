//! How long a request may spend resolving before it must answer.
//!
//! Lambda kills an invocation at its deadline; an answer not sent by then
//! leaves the stack waiting for an hour. So resolution stops early enough to
//! leave time for the PUT and its retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Time kept back for sending the response.
pub const RESPONSE_RESERVE: Duration = Duration::from_secs(5);
/// The budget used when the runtime reports a deadline that is already past
/// or further away than Lambda allows (local emulators do both).
pub const FALLBACK_BUDGET: Duration = Duration::from_secs(60);
/// Lambda's longest timeout; a deadline beyond it is not believed.
const LAMBDA_MAX: Duration = Duration::from_secs(15 * 60);

/// When to stop resolving and when to stop trying to respond.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// Resolution is cut off here and answered FAILED.
    pub resolve_by: Instant,
    /// The response must be delivered by here.
    pub respond_by: Instant,
    /// The runtime's deadline was not usable and the fallback budget applies.
    pub fallback: bool,
}

impl Deadline {
    /// From Lambda's deadline, in milliseconds since the Unix epoch.
    pub fn from_epoch_millis(deadline_ms: u64) -> Self {
        Self::from_epoch_millis_at(deadline_ms, SystemTime::now(), Instant::now())
    }

    fn from_epoch_millis_at(deadline_ms: u64, now: SystemTime, now_instant: Instant) -> Self {
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let remaining = u128::from(deadline_ms)
            .checked_sub(now_ms)
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)));
        match remaining {
            Some(r) if !r.is_zero() && r <= LAMBDA_MAX => Self::within(r, now_instant, false),
            _ => Self::within(FALLBACK_BUDGET, now_instant, true),
        }
    }

    /// A deadline `total` from now (the dry-run CLI, tests).
    pub fn after(total: Duration) -> Self {
        Self::within(total, Instant::now(), false)
    }

    fn within(total: Duration, now: Instant, fallback: bool) -> Self {
        // Keep the reserve, but never more than half of a short budget.
        let reserve = RESPONSE_RESERVE.min(total / 2);
        Self {
            resolve_by: now + (total - reserve),
            respond_by: now + total,
            fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset_ms: i64) -> Deadline {
        let now = SystemTime::now();
        let now_ms = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        Deadline::from_epoch_millis_at((now_ms + offset_ms).max(0) as u64, now, Instant::now())
    }

    #[test]
    fn a_normal_deadline_keeps_a_reserve_for_the_response() {
        let d = at(120_000);
        assert!(!d.fallback);
        let gap = d.respond_by - d.resolve_by;
        assert_eq!(gap, RESPONSE_RESERVE);
    }

    #[test]
    fn past_or_absurd_deadlines_fall_back() {
        assert!(at(-5_000).fallback);
        assert!(at(0).fallback);
        assert!(at(3_600_000).fallback);
        let d = Deadline::from_epoch_millis(0);
        assert!(d.fallback);
        assert!(d.respond_by - Instant::now() <= FALLBACK_BUDGET);
    }

    #[test]
    fn a_short_budget_splits_in_half() {
        let d = Deadline::after(Duration::from_secs(4));
        assert_eq!(d.respond_by - d.resolve_by, Duration::from_secs(2));
    }
}
