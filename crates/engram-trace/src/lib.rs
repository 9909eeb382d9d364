//! Traces: where an ingest or a query spends its time, across the CLI, the SDK and a node.
//!
//! Engram's code marks its work with `tracing` spans (embedding, store writes and
//! searches, HTTP requests served and sent). This crate is the one place that turns them
//! into OpenTelemetry traces: [`init`] installs the process's subscriber and, only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, an
//! OTLP/HTTP (protobuf) exporter batching spans to that collector; unset, nothing is
//! exported and nothing is sent. [`inject`] and [`set_parent`] carry the W3C trace context
//! (`traceparent`) over the HTTP hops, so a query from the CLI and the node's work on it are
//! one trace. Span attributes never hold memory texts or private namespace names.

use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The environment variables that turn export on (the OpenTelemetry specification's).
pub const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Why tracing could not start.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The OTLP exporter could not be built (a malformed endpoint, no HTTP client).
    #[error("OTLP trace exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// Another subscriber was installed first.
    #[error("tracing was already set up in this process: {0}")]
    AlreadySet(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the exporter alive; dropping it sends the spans still batched (a short-lived CLI
/// command must drop it before it exits).
#[must_use = "spans still batched are lost unless the guard is dropped at exit"]
pub struct Guard(Option<SdkTracerProvider>);

impl Guard {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("engram: traces not all sent: {e}");
        }
    }
}

fn exporting() -> bool {
    ENDPOINT_VARS
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

/// The filter for log lines and spans: `ENGRAM_LOG` (`tracing` directives), else `info`.
fn filter() -> EnvFilter {
    EnvFilter::try_from_env("ENGRAM_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the subscriber of a process named `service`: log lines on stderr when `logs`
/// (servers), spans to the OTLP collector when an endpoint variable is set. With neither,
/// nothing is installed.
///
/// # Errors
/// [`TraceError`] when the exporter cannot be built or a subscriber exists already.
pub fn init(service: &'static str, logs: bool) -> Result<Guard, TraceError> {
    let fmt = logs.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_filter(filter())
    });
    if !exporting() {
        if fmt.is_some() {
            tracing_subscriber::registry().with(fmt).try_init()?;
        }
        return Ok(Guard(None));
    }
    // The endpoint comes from the variables themselves (`…_TRACES_ENDPOINT` as given,
    // else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`), as the specification says.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build(),
        )
        .build();
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("engram"))
        .with_filter(filter());
    tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init()?;
    Ok(Guard(Some(provider)))
}

fn propagator() -> &'static TraceContextPropagator {
    static P: OnceLock<TraceContextPropagator> = OnceLock::new();
    P.get_or_init(TraceContextPropagator::new)
}

struct Headers<'a>(&'a mut http::HeaderMap);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct ReadHeaders<'a>(&'a http::HeaderMap);

impl Extractor for ReadHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes the current span's trace context into an outgoing request's headers
/// (`traceparent`); nothing when no trace is being recorded.
pub fn inject(headers: &mut http::HeaderMap) {
    let cx = tracing::Span::current().context();
    propagator().inject_context(&cx, &mut Headers(headers));
}

/// Makes the trace context of an incoming request's headers the parent of `span`, so the
/// work a node does for a caller is part of the caller's trace; no-op without one.
pub fn set_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if headers.contains_key("traceparent") {
        let cx = propagator().extract(&ReadHeaders(headers));
        // Fails only for a span that is already closed or not recorded: nothing to link.
        let _ = span.set_parent(cx);
    }
}
