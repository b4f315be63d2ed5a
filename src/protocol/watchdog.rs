//! The deadline guard that needs nothing from the request's own thread.
//!
//! The Lambda serves requests on one runtime thread. The deadline in
//! `resolve_by_deadline` is a timer on that thread, so it only fires when the
//! work yields: a CPU-bound step that overruns (parsing a huge event, a
//! slow loop over its entries) would starve it, and the stack would wait an
//! hour for an answer that never comes. So each request also arms a
//! [`Watchdog`]: a plain OS thread that sleeps until a little after
//! `resolve_by`. If the request has not claimed its answer by then, the
//! watchdog claims it, builds the FAILED "timed out" answer itself and PUTs
//! it from its own small runtime with its own HTTP client (the shared one's
//! pooled connections are driven by the busy thread). Whoever claims first
//! sends; the other never does, so there is still exactly one answer.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::response::{self, Answer, Echo, Status};
use super::transport::{ResponseSender, ResponseUrl, SendError};
use crate::progress::Progress;

/// What the watchdog needs to answer on the request's behalf.
pub(crate) struct Orders {
    /// Where the answer goes.
    pub url: ResponseUrl,
    /// The echoed request fields.
    pub echo: Echo,
    /// The id a FAILED answer carries.
    pub failed_id: String,
    /// What the request is waiting on, for the Reason.
    pub progress: Progress,
    /// When the request started.
    pub started: Instant,
    /// When resolution should have stopped.
    pub resolve_by: Instant,
    /// When the answer must be delivered.
    pub respond_by: Instant,
    /// A sender to clone the retry policy from.
    pub sender: ResponseSender,
    /// The request's span, so the watchdog's log line carries its ids.
    pub span: tracing::Span,
}

/// Who sends the one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Open,
    Request,
    Watchdog,
}

/// The watchdog's delivery, as the request's handler sees it.
pub(crate) type Delivered = (Answer, Result<u32, SendError>);

/// A request's deadline guard; see the module documentation.
pub(crate) struct Watchdog {
    claim: Arc<(Mutex<Claim>, Condvar)>,
    delivered: Option<oneshot::Receiver<Delivered>>,
}

impl Watchdog {
    /// Starts the guard. When no thread can be started the request keeps its
    /// cooperative deadline alone (and says so in the log).
    pub(crate) fn arm(orders: Orders) -> Self {
        let claim = Arc::new((Mutex::new(Claim::Open), Condvar::new()));
        let (tx, rx) = oneshot::channel();
        let shared = Arc::clone(&claim);
        let started = std::thread::Builder::new()
            .name("crp-watchdog".to_owned())
            .spawn(move || watch(&shared, orders, tx));
        if let Err(e) = started {
            tracing::warn!(error = %e, "the deadline watchdog could not start");
        }
        Self {
            claim,
            delivered: Some(rx),
        }
    }

    /// Claims the answer for the request's own path. `Ok` when it may send
    /// (the watchdog stands down); otherwise the watchdog claimed it first,
    /// and this is its delivery once done (`None` if the watchdog itself
    /// failed, in which case nothing more may be sent: its PUT may have
    /// arrived).
    pub(crate) async fn claim(&mut self) -> Result<(), Option<Delivered>> {
        {
            let (lock, wake) = &*self.claim;
            let mut claim = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if *claim == Claim::Open {
                *claim = Claim::Request;
                wake.notify_all();
                return Ok(());
            }
        }
        match self.delivered.take() {
            Some(rx) => Err(rx.await.ok()),
            None => Err(None),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // A request that ends without claiming (an early return) stands the
        // watchdog down too; it must not answer a request that was not for it.
        let (lock, wake) = &*self.claim;
        let mut claim = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if *claim == Claim::Open {
            *claim = Claim::Request;
        }
        wake.notify_all();
    }
}

/// When the watchdog fires: a quarter of the response reserve after
/// `resolve_by`, so the cooperative deadline (whose Reason knows more) wins
/// whenever the thread is free, and three quarters remain for the PUT.
fn fire_at(resolve_by: Instant, respond_by: Instant) -> Instant {
    resolve_by + respond_by.saturating_duration_since(resolve_by) / 4
}

fn watch(shared: &(Mutex<Claim>, Condvar), orders: Orders, tx: oneshot::Sender<Delivered>) {
    let fire = fire_at(orders.resolve_by, orders.respond_by).into_std();
    let (lock, wake) = shared;
    {
        let mut claim = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *claim != Claim::Open {
                return;
            }
            let left = fire.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            claim = wake
                .wait_timeout(claim, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *claim = Claim::Watchdog;
    }
    let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(&orders)));
    if let Ok(delivered) = delivered {
        drop(tx.send(delivered));
    }
}

/// Builds and sends the FAILED answer from this thread.
fn answer(orders: &Orders) -> Delivered {
    let _entered = orders.span.enter();
    let busy = orders.started.elapsed().as_secs_f64();
    let answer = Answer {
        status: Status::Failed,
        reason: format!(
            "timed out after {busy:.1}s: the provider was still busy (a step that did not yield) while {}; it answered before its Lambda deadline. This input is more than the provider can handle in time: split the resource, or report the input if it is small",
            orders.progress.describe()
        ),
        physical_resource_id: orders.failed_id.clone(),
        data: Default::default(),
        no_echo: false,
    };
    let body = response::failed_body(&orders.echo, &answer);
    let sent = send(orders, body);
    super::log_outcome(&answer, &sent, &orders.url, orders.started, "watchdog");
    (answer, sent)
}

fn send(orders: &Orders, body: Vec<u8>) -> Result<u32, SendError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SendError::GaveUp {
            attempts: 0,
            last: format!("the watchdog could not start its runtime: {e}"),
        })?;
    let sender = orders.sender.detached().map_err(|e| SendError::GaveUp {
        attempts: 0,
        last: format!("the watchdog could not build its HTTP client: {e}"),
    })?;
    runtime.block_on(sender.send(&orders.url, body, orders.respond_by))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_watchdog_fires_after_the_cooperative_deadline_and_before_the_last() {
        let now = Instant::now();
        let (resolve_by, respond_by) =
            (now + Duration::from_secs(10), now + Duration::from_secs(14));
        let fire = fire_at(resolve_by, respond_by);
        assert_eq!(fire, now + Duration::from_secs(11));
        assert_eq!(fire_at(respond_by, resolve_by), respond_by);
    }
}
