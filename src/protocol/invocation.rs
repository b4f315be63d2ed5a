//! Where the provider meets the Lambda runtime: it answers from the raw bytes.
//!
//! `lambda_runtime` deserialises each invocation before a handler sees it,
//! and at trace level logs the body whole. Neither suits this provider: an
//! event serde_json refuses must still be answered (tolerant parsing needs the
//! bytes), and the body holds the presigned ResponseURL, which must never be
//! logged. So [`RawEventLayer`] sits outermost: it takes the body out of each
//! invocation and leaves `null` for the runtime to parse and log, and the
//! handler takes the bytes back by the invocation's request id. The handler
//! reports to the runtime only whether the answer was delivered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use lambda_runtime::tower::Layer;
use lambda_runtime::{Error, LambdaEvent, LambdaInvocation, Runtime, Service, service_fn};
use serde_json::Value;

use super::{Deadline, Provider, ProviderError};
use crate::resolve::Resolve;

/// What the runtime is handed in place of each event.
const PLACEHOLDER: &[u8] = b"null";

/// Invocation bodies held between the layer and the handler, by request id.
#[derive(Debug, Clone, Default)]
pub struct RawEvents {
    held: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl RawEvents {
    /// The layer that fills this store.
    pub fn layer(&self) -> RawEventLayer {
        RawEventLayer {
            events: self.clone(),
        }
    }

    /// Takes the body of invocation `request_id`, once.
    pub fn take(&self, request_id: &str) -> Option<Vec<u8>> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(request_id)
    }

    fn put(&self, request_id: String, body: Vec<u8>) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(request_id, body);
    }
}

/// Takes each invocation's body before the runtime reads it.
#[derive(Debug, Clone)]
pub struct RawEventLayer {
    events: RawEvents,
}

impl<S> Layer<S> for RawEventLayer {
    type Service = RawEventService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RawEventService {
            inner,
            events: self.events.clone(),
        }
    }
}

/// The service [`RawEventLayer`] wraps around the runtime's own.
#[derive(Debug, Clone)]
pub struct RawEventService<S> {
    inner: S,
    events: RawEvents,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for RawEventService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        let raw = std::mem::replace(&mut invocation.body, PLACEHOLDER.into());
        self.events
            .put(invocation.context.request_id.clone(), raw.to_vec());
        self.inner.call(invocation)
    }
}

/// Serves invocations with `provider` until the runtime stops: the Lambda
/// binary's whole loop.
pub async fn serve<R: Resolve>(provider: Arc<Provider<R>>) -> Result<(), Error> {
    let events = RawEvents::default();
    let handler = {
        let events = events.clone();
        service_fn(move |event: LambdaEvent<Value>| {
            let provider = Arc::clone(&provider);
            let raw = events.take(&event.context.request_id).unwrap_or_default();
            async move {
                let deadline = Deadline::from_epoch_millis(event.context.deadline);
                // A ProviderError reaches Lambda with a searchable errorType
                // (`CrossRegionParam.ResponseNotDelivered`, ...), not a type name.
                provider.handle(&raw, deadline).await?;
                Ok::<Value, ProviderError>(Value::Null)
            }
        })
    };
    Runtime::new(handler)
        .layer(events.layer())
        .layer(lambda_runtime::layers::TracingLayer::new())
        .run()
        .await
}
