//! Prometheus metrics. Label values come only from the configuration
//! (model names) and fixed words (outcomes), never from a request: a
//! caller cannot grow the series.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub model: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabel {
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Upstream {
    pub upstream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Load {
    pub model: String,
    pub result: String,
}

fn latency() -> Histogram {
    // 50 µs to about 13 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 19))
}

/// Every metric the gateway keeps.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<Outcome, Counter>,
    pub latency: Family<Outcome, Histogram, fn() -> Histogram>,
    pub rejections: Family<Reason, Counter>,
    pub ready: Family<ModelLabel, Gauge>,
    pub loads: Family<Load, Counter>,
    pub limiter_keys: Gauge,
    pub limiter_shared: Gauge,
    pub dropped: Family<Reason, Gauge>,
    pub circuit: Family<Upstream, Gauge>,
    pub store_errors: Counter,
    /// Connections open, and of those, parked (idle, only the socket).
    pub connections: Gauge,
    pub parked: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("rampart_gateway");
        let requests = Family::<Outcome, Counter>::default();
        let latency = Family::<Outcome, Histogram, fn() -> Histogram>::new_with_constructor(
            latency as fn() -> Histogram,
        );
        let rejections = Family::<Reason, Counter>::default();
        let ready = Family::<ModelLabel, Gauge>::default();
        let loads = Family::<Load, Counter>::default();
        let limiter_keys = Gauge::default();
        let limiter_shared = Gauge::default();
        let dropped = Family::<Reason, Gauge>::default();
        let circuit = Family::<Upstream, Gauge>::default();
        let store_errors = Counter::default();
        let connections = Gauge::default();
        let parked = Gauge::default();
        registry.register(
            "connections",
            "Client connections open",
            connections.clone(),
        );
        registry.register(
            "connections_parked",
            "Idle keep-alive connections holding only their socket",
            parked.clone(),
        );
        registry.register(
            "requests",
            "Requests by model and outcome",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to response, by model and outcome",
            latency.clone(),
        );
        registry.register(
            "rejections",
            "Requests refused, by reason",
            rejections.clone(),
        );
        registry.register(
            "model_ready",
            "1 when the model is admitted and served, 0 when refused",
            ready.clone(),
        );
        registry.register(
            "model_loads",
            "Admission decisions, by model and result",
            loads.clone(),
        );
        registry.register(
            "limiter_keys",
            "Principal and model pairs the rate limiter tracks",
            limiter_keys.clone(),
        );
        registry.register(
            "limiter_shared",
            "1 when limits are shared through Redis, 0 when they are local to this replica",
            limiter_shared.clone(),
        );
        registry.register(
            "dropped",
            "Log lines and audit events dropped (queue full) or sampled out, since start",
            dropped.clone(),
        );
        registry.register(
            "upstream_circuit",
            "Each upstream's circuit: 0 closed, 1 open, 2 half open",
            circuit.clone(),
        );
        registry.register(
            "store_errors",
            "Failed reads of the registry or the ledger's keys",
            store_errors.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            rejections,
            ready,
            loads,
            limiter_keys,
            limiter_shared,
            dropped,
            circuit,
            store_errors,
            connections,
            parked,
        }
    }
}

impl Metrics {
    pub fn observe(&self, model: &str, outcome: &str, seconds: f64) {
        let l = Outcome {
            model: model.to_string(),
            outcome: outcome.to_string(),
        };
        self.requests.get_or_create(&l).inc();
        self.latency.get_or_create(&l).observe(seconds);
    }

    pub fn reject(&self, reason: &str) {
        self.rejections
            .get_or_create(&Reason {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
