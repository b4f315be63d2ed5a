//! What a request is waiting on right now, so a timeout Reason can say so.
//!
//! A leaf: the AWS layer (assuming a role) and every source register their
//! calls here, and the protocol layer reads it when the deadline comes. It
//! uses nothing above itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The calls in flight for one request.
///
/// Cloned into every source; each AWS call registers itself for as long as it
/// runs. Per request, never process-wide.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    inner: Arc<Mutex<ProgressState>>,
}

#[derive(Debug, Default)]
struct ProgressState {
    next: u64,
    pending: BTreeMap<u64, Pending>,
    last: Option<String>,
}

#[derive(Debug)]
struct Pending {
    what: String,
    waiting: bool,
}

/// Removes its step from [`Progress`] when dropped.
#[derive(Debug)]
pub struct Step {
    progress: Progress,
    id: u64,
}

impl Progress {
    /// Registers the call `what` (e.g. `ssm:GetParameters in us-east-1 for /a, /b`)
    /// until the returned guard is dropped.
    pub fn step(&self, what: impl Into<String>) -> Step {
        self.register(what.into(), false)
    }

    /// Registers a wait that no network fix can shorten (a Lambda version
    /// still `Pending`), so a timeout Reason gives the right advice.
    pub fn wait(&self, what: impl Into<String>) -> Step {
        self.register(what.into(), true)
    }

    fn register(&self, what: String, waiting: bool) -> Step {
        let mut state = self.lock();
        let id = state.next;
        state.next += 1;
        state.last = Some(what.clone());
        state.pending.insert(id, Pending { what, waiting });
        Step {
            progress: self.clone(),
            id,
        }
    }

    /// A sentence naming what is still pending (or the last thing started).
    pub fn describe(&self) -> String {
        let state = self.lock();
        if !state.pending.is_empty() {
            let pending: Vec<&str> = state.pending.values().map(|p| p.what.as_str()).collect();
            crate::reason::listed(&pending, ", ", crate::reason::LIST_BUDGET)
        } else if let Some(last) = &state.last {
            format!("the step after {last}")
        } else {
            "the start of resolution".to_owned()
        }
    }

    /// Whether something pending is a wait on AWS's side (not a call that
    /// went unanswered).
    pub fn is_waiting(&self) -> bool {
        self.lock().pending.values().any(|p| p.waiting)
    }

    /// The advice a timeout Reason should end with: a version still
    /// `Pending` needs time, not a network fix.
    pub fn timeout_advice(&self, region: &str) -> String {
        if self.is_waiting() {
            "a Lambda version that is still Pending only needs time: wait until it is Active and deploy again (a longer provider timeout lets it wait longer)".to_owned()
        } else {
            format!("check that the provider can reach AWS in {region}, or raise its timeout")
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.progress.lock().pending.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_names_pending_steps_then_the_last_one() {
        let p = Progress::default();
        assert_eq!(p.describe(), "the start of resolution");
        let a = p.step("ssm:GetParameters in us-east-1");
        let b = p.step("lambda:ListVersionsByFunction in us-east-1");
        assert!(p.describe().contains("ssm:GetParameters") && p.describe().contains("lambda:"));
        drop(a);
        drop(b);
        assert_eq!(
            p.describe(),
            "the step after lambda:ListVersionsByFunction in us-east-1"
        );
    }

    #[test]
    fn a_wait_is_told_apart_from_a_call() {
        let p = Progress::default();
        let call = p.step("lambda:GetFunctionConfiguration");
        assert!(!p.is_waiting());
        assert!(
            p.timeout_advice("us-east-1")
                .contains("reach AWS in us-east-1")
        );
        let wait = p.wait("Lambda version f:7 to become Active");
        assert!(p.is_waiting());
        assert!(p.timeout_advice("us-east-1").contains("only needs time"));
        drop(wait);
        drop(call);
        assert!(!p.is_waiting());
    }
}
