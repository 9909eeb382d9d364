//! Building and running a node: [`router`] wires the endpoints, [`Node`] owns a bound
//! server with its embedder thread and index builder, and stops them in order (stop
//! accepting, finish requests, checkpoint the store).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use engram_engine::{Engine, EngineConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use crate::batcher::EmbedPool;
use crate::config::NodeConfig;
use crate::error::NodeError;
use crate::metrics::Metrics;
use crate::rate::RateLimiter;
use crate::routes;

/// What every handler shares.
pub struct AppState {
    pub(crate) config: NodeConfig,
    pub(crate) engine: Arc<Engine>,
    pub(crate) embedder: EmbedPool,
    pub(crate) limiter: RateLimiter,
    pub(crate) metrics: Metrics,
    pub(crate) replay: engram_core::auth::ReplayCache,
    pub(crate) namespaces: crate::namespaces::Namespaces,
    pub(crate) attestations: crate::attest::Attestations,
    /// Key shares of private namespaces kept for their owners.
    pub(crate) shares: crate::shares::KeyShares,
    /// What each signing hotkey did on this node.
    pub(crate) wallets: crate::admin::WalletStats,
    /// How documents are read (limits, URL policy, vision model).
    pub(crate) media: engram_client::media::MediaOptions,
    /// The Arweave uploader, when a wallet is configured.
    pub(crate) archiver: Option<Arc<engram_client::media::Archiver>>,
    /// The sorted public CIDs, with the commitment root they were listed at.
    pub(crate) cids: std::sync::Mutex<Option<ListedCids>>,
    /// The network this node joined, once it did.
    pub(crate) joined: std::sync::OnceLock<crate::overview::Joined>,
    /// Where validators' reports are read from, when the operator installed a source.
    pub(crate) validators: std::sync::OnceLock<crate::overview::ValidatorReports>,
    /// This node's last replication repair round.
    pub(crate) replication: Arc<std::sync::Mutex<Option<engram_wire::ReplicationView>>>,
    /// The store's disk usage and when it was measured.
    pub(crate) disk: std::sync::Mutex<Option<(Instant, u64)>>,
    /// The last network view and when it was built (held while one is built).
    pub(crate) network_view: tokio::sync::Mutex<Option<(Instant, engram_wire::NetworkOverview)>>,
    /// Per-caller limit of the views that make this node ask its peers.
    pub(crate) views: RateLimiter,
}

/// Sorted public CIDs and the commitment root they were listed at.
pub(crate) type ListedCids = ([u8; 32], Arc<Vec<String>>);

impl AppState {
    /// The node's public CIDs, sorted; listed again only after the corpus changed. The
    /// commitment (which may rebuild Merkle roots under the store's write lock) and the
    /// listing both run on a blocking thread, never on the async workers.
    pub(crate) async fn public_cids(&self) -> Result<Arc<Vec<String>>, crate::ApiError> {
        let cached = self.cids.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let engine = self.engine.clone();
        let (root, list, fresh) = tokio::task::spawn_blocking(move || {
            let root = engine.store().commitment().root_v1;
            match cached {
                Some((at, list)) if at == root => Ok((root, list, false)),
                _ => {
                    let list: Vec<String> =
                        engine.cids(None)?.iter().map(ToString::to_string).collect();
                    Ok::<_, engram_engine::EngineError>((root, Arc::new(list), true))
                }
            }
        })
        .await??;
        if fresh {
            *self.cids.lock().unwrap_or_else(|p| p.into_inner()) = Some((root, list.clone()));
        }
        Ok(list)
    }
}

/// Counts every request in `/metrics` and traces it: one server span named by its route
/// template (never the path, which may hold a namespace), child of the caller's span when
/// the request carries a trace context.
async fn record_metrics(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!(
        "http.server",
        otel.name = %format!("{} {route}", req.method()),
        otel.kind = "server",
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    engram_trace::set_parent(&span, req.headers());
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    state
        .metrics
        .record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The node's HTTP API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/IngestSynapse", post(routes::ingest))
        .route("/QuerySynapse", post(routes::query))
        .route("/ChallengeSynapse", post(routes::challenge))
        .route("/health", get(routes::health))
        .route("/stats", get(routes::stats))
        .route("/metrics", get(routes::metrics))
        .route(
            "/retrieve/{cid}",
            get(routes::retrieve).delete(routes::delete),
        )
        .route("/commitment", get(routes::commitment))
        .route("/prove-memory", post(routes::prove_memory))
        .route("/cids", get(routes::cids))
        .route("/list", post(routes::list))
        .route("/delete", post(routes::delete_many))
        .route(
            "/IngestDocument",
            post(crate::documents::ingest_document).layer(DefaultBodyLimit::max(
                crate::documents::body_limit(state.config.max_document_bytes),
            )),
        )
        .route(
            "/blob",
            post(crate::documents::put_blob).layer(DefaultBodyLimit::max(
                state.config.max_document_bytes.saturating_add(64 << 10),
            )),
        )
        .route("/blob/{cid}", get(crate::documents::blob))
        .route("/blob/{cid}/info", get(crate::documents::blob_info))
        .route("/shards", get(crate::erasure::list))
        .route(
            "/shards/{blob}",
            get(crate::erasure::manifest).put(crate::erasure::put_manifest),
        )
        .route(
            "/shards/{blob}/{index}",
            get(crate::erasure::shard)
                .put(crate::erasure::put_shard)
                .layer(DefaultBodyLimit::max(state.config.max_document_bytes)),
        )
        .route("/AttestNamespace", post(routes::attest))
        .route("/attestation/{namespace}", get(routes::attestation))
        .route("/RepairSynapse", post(routes::repair))
        .route("/namespace", post(crate::admin::namespace))
        .route("/snapshot", post(crate::admin::snapshot))
        .route("/wallet-stats", get(crate::admin::wallet_stats))
        .route("/wallet-stats/{hotkey}", get(crate::admin::wallet_stats_of))
        .route("/KeyShareSynapse", post(crate::shares::store))
        .route("/KeyShareRetrieve", post(crate::shares::retrieve))
        .route("/overview", get(crate::overview::overview))
        .route("/metagraph", get(crate::overview::metagraph))
        .route("/holders/{cid}", get(crate::overview::holders))
        .route("/", get(crate::web::home))
        .route("/cid/{cid}", get(crate::web::cid_page))
        .route("/dashboard", get(crate::web::dashboard))
        .route("/web/{file}", get(crate::web::asset))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::browser_guard,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// A running node.
pub struct Node {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    indexer_stop: Arc<AtomicBool>,
    indexer: Option<std::thread::JoinHandle<()>>,
    repair: Option<JoinHandle<()>>,
    tiers: Option<JoinHandle<()>>,
    uploads: Option<JoinHandle<()>>,
}

impl Node {
    /// Opens the data directory, loads and verifies the model, binds the listen address and
    /// starts serving.
    ///
    /// # Errors
    /// [`NodeError::Engine`] (store or model), [`NodeError::Bind`].
    pub async fn bind(config: NodeConfig) -> Result<Self, NodeError> {
        let engine_config = EngineConfig {
            data_dir: config.data_dir.clone(),
            model_dir: config.model_dir.clone(),
        };
        let (engine, embedder) = tokio::task::spawn_blocking(move || -> Result<_, NodeError> {
            let engine = Engine::open(engine_config)?;
            let embedder = engine.embedder()?.clone();
            Ok((engine, embedder))
        })
        .await??;
        let engine = Arc::new(engine);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| NodeError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| NodeError::Bind {
            addr: config.listen,
            source,
        })?;

        let mut media = engram_client::media::MediaOptions::from_env(config.allow_private_urls);
        media.limits.max_bytes = config.max_document_bytes;
        let archiver = engram_client::media::Archiver::from_env()?.map(Arc::new);
        if let Some(a) = &archiver {
            tracing::info!(address = a.address(), "arweave uploads on");
        }
        let state = Arc::new(AppState {
            media,
            archiver,
            embedder: EmbedPool::start(
                embedder,
                config.embed_queue,
                config.max_batch,
                config.embed_workers,
            ),
            limiter: RateLimiter::new(config.ingest_rate_per_minute),
            metrics: Metrics::new(),
            replay: engram_core::auth::ReplayCache::default(),
            namespaces: crate::namespaces::Namespaces::open(&config.data_dir)?,
            attestations: crate::attest::Attestations::open(&config.data_dir)?,
            shares: crate::shares::KeyShares::open(&config.data_dir)?,
            wallets: crate::admin::WalletStats::open(&config.data_dir)?,
            cids: std::sync::Mutex::new(None),
            joined: std::sync::OnceLock::new(),
            validators: std::sync::OnceLock::new(),
            replication: Arc::default(),
            disk: std::sync::Mutex::new(None),
            network_view: tokio::sync::Mutex::new(None),
            views: RateLimiter::new(crate::overview::HOLDERS_PER_MINUTE),
            engine: engine.clone(),
            config,
        });

        let indexer_stop = Arc::new(AtomicBool::new(false));
        let indexer = spawn_indexer(
            engine,
            indexer_stop.clone(),
            Duration::from_secs(state.config.index_interval_s.max(1)),
        );

        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, "engram node listening");
        if state.config.fault() != crate::Fault::None {
            tracing::warn!(fault = ?state.config.fault(), "ENGRAM_FAULT is set: this node misbehaves on purpose");
        }
        Ok(Self {
            addr,
            stop: Some(stop),
            server,
            indexer_stop,
            indexer: Some(indexer),
            repair: None,
            tiers: None,
            uploads: crate::documents::spawn_upload_retry(
                state.clone(),
                Duration::from_secs(state.config.arweave_retry_s.max(1)),
            ),
            state,
        })
    }

    /// Joins a network: registers `key`, announces this node's address, starts the
    /// replication repair loop (every `repair_interval_s`) and reads attested owners'
    /// stake from `chain` (every `attestation_refresh_s`). Returns the node's uid.
    ///
    /// # Errors
    /// [`NodeError::Chain`] if the registry refuses.
    pub async fn join_network(
        &mut self,
        chain: Arc<dyn engram_chain::Chain>,
        key: engram_core::keys::Keypair,
    ) -> Result<u16, NodeError> {
        let me = key.ss58();
        let uid = crate::network::join(chain.clone(), key, format!("http://{}", self.addr)).await?;
        tracing::info!(uid, hotkey = %me, "joined the network");
        self.state.attestations.use_chain(chain.clone());
        // One network client (and one cache of live nodes) for repair and the views.
        let network = engram_client::network::Network::new(chain);
        let _ = self.state.joined.set(crate::overview::Joined {
            network: network.clone(),
            hotkey: me.clone(),
            uid,
        });
        self.repair = Some(crate::network::spawn_repair(
            self.state.engine.clone(),
            network,
            me,
            Duration::from_secs(self.state.config.repair_interval_s.max(1)),
            self.state.config.erasure,
            self.state.replication.clone(),
        ));
        self.tiers = Some(spawn_tier_refresh(
            self.state.clone(),
            Duration::from_secs(self.state.config.attestation_refresh_s.max(1)),
        ));
        Ok(uid)
    }

    /// Shows the validators' reports from `reports` on the dashboard (`GET /overview`);
    /// the binary that knows where validators keep their state installs it. A second call
    /// is ignored.
    pub fn show_validators(&self, reports: crate::overview::ValidatorReports) {
        let _ = self.state.validators.set(reports);
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, stops the index builder and
    /// checkpoints the store. When it returns the data directory is released.
    ///
    /// # Errors
    /// [`NodeError::Serve`] if the server failed, [`NodeError::Engine`] if the checkpoint did.
    pub async fn shutdown(mut self) -> Result<(), NodeError> {
        for task in [self.repair.take(), self.tiers.take(), self.uploads.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.server).await;
        self.indexer_stop.store(true, Ordering::Relaxed);
        if let Some(indexer) = self.indexer.take() {
            let _ = tokio::task::spawn_blocking(move || indexer.join()).await;
        }
        if let Err(e) = self.state.wallets.save() {
            tracing::warn!(error = %e, "wallet statistics not saved");
        }
        let engine = self.state.engine.clone();
        tokio::task::spawn_blocking(move || engine.store().checkpoint())
            .await?
            .map_err(engram_engine::EngineError::from)?;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(NodeError::Serve(e)),
            Err(e) => Err(NodeError::Serve(std::io::Error::other(e))),
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down cleanly.
    ///
    /// # Errors
    /// As [`Node::shutdown`].
    pub async fn run_until_signal(self) -> Result<(), NodeError> {
        engram_os::shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

/// Re-reads attested owners' stake now and then every `every`.
fn spawn_tier_refresh(state: Arc<AppState>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let state = state.clone();
            let refreshed = tokio::task::spawn_blocking(move || {
                state.attestations.refresh(engram_os::now_ms())
            })
            .await;
            if let Ok(Err(e)) = refreshed {
                tracing::error!(error = %e, "trust tier refresh failed");
            }
        }
    })
}

fn spawn_indexer(
    engine: Arc<Engine>,
    stop: Arc<AtomicBool>,
    every: Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("engram-index".into())
        .spawn(move || {
            let tick = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                waited += tick;
                if waited >= every {
                    waited = Duration::ZERO;
                    // Expired private memories leave first: the index build then has
                    // nothing of theirs to index.
                    match engine.store().expire(engram_os::now_ms()) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(expired = n, "expired memories removed"),
                        Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
                    }
                    if let Err(e) = engine.store().optimize() {
                        tracing::error!(error = %e, "index build failed");
                    }
                }
            }
        })
        .expect("spawn index thread")
}
