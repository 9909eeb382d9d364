//! Micro-batching: concurrent text requests share one forward pass.
//!
//! The model is several times faster per text in a batch than alone, so embedding runs on
//! a dedicated thread (never on the async workers) that takes every text waiting in a
//! bounded queue, up to `max_batch`, and embeds them together. While one batch runs, the
//! next one collects. A full queue answers 503 at once instead of growing without bound.
//! Several such threads (`embed_workers`) may share the queue, each with its own rayon pool
//! holding an equal share of the cores: on few cores, batches on one core each embed more
//! texts per second than every batch on all cores (no fork-join between cores), at the cost
//! of a longer tail, so one thread on all cores is the default.
//!
//! Where a text's time goes is exported: how long it waited for the thread, how long its
//! batch took, and how many texts the batch held (`/metrics`, `engram_embed_*`), because a
//! slow text query is either queued behind another batch or in a slow one, and the two
//! call for different fixes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use engram_embed::{EmbedError, Embedder};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::metrics::{Histogram, SECONDS};

/// Upper bounds of the batch-size histogram.
const SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// The embedding threads' histograms.
pub(crate) struct EmbedTimes {
    /// Seconds from a text's arrival to the start of its batch.
    pub(crate) wait: Histogram,
    /// Seconds the batch a text was in took (tokenizer and model), once per text: a text's
    /// time in the embedder is its wait plus this.
    pub(crate) batch: Histogram,
    /// Texts per batch.
    pub(crate) size: Histogram,
}

struct Job {
    text: String,
    queued: Instant,
    reply: oneshot::Sender<Result<Vec<f32>, Arc<EmbedError>>>,
}

/// A handle to the embedding threads.
pub(crate) struct EmbedPool {
    tx: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    capacity: usize,
    times: Arc<Mutex<EmbedTimes>>,
}

impl EmbedPool {
    /// Starts `workers` embedding threads (at least one). They end when the pool is dropped.
    pub(crate) fn start(
        embedder: Arc<Embedder>,
        queue: usize,
        max_batch: usize,
        workers: usize,
    ) -> Self {
        let (tx, rx) = sync_channel(queue);
        let rx = Arc::new(Mutex::new(rx));
        let depth = Arc::new(AtomicUsize::new(0));
        let times = Arc::new(Mutex::new(EmbedTimes {
            wait: Histogram::new(SECONDS),
            batch: Histogram::new(SECONDS),
            size: Histogram::new(SIZES),
        }));
        let workers = workers.max(1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / workers).max(1);
        for i in 0..workers {
            let worker = Worker {
                depth: depth.clone(),
                times: times.clone(),
                max_batch,
            };
            let embedder = embedder.clone();
            let rx = rx.clone();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(move |t| format!("engram-embed-{i}-{t}"))
                .build()
                .expect("embedding thread pool");
            std::thread::Builder::new()
                .name(format!("engram-embed-{i}"))
                .spawn(move || pool.install(|| worker.run(&embedder, &rx)))
                .expect("spawn embedding thread");
        }
        Self {
            tx,
            depth,
            capacity: queue,
            times,
        }
    }

    /// Embeds one text, batched with whatever else is waiting.
    pub(crate) async fn embed(&self, text: String) -> Result<Vec<f32>, ApiError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            text,
            queued: Instant::now(),
            reply,
        };
        // Counted before it is sent: a worker may take and finish the text before this
        // thread runs again, and its decrement must not come first (the count would wrap).
        self.depth.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.tx.try_send(job) {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(match e {
                TrySendError::Full(_) => ApiError::Busy(format!(
                    "{} texts are waiting to be embedded",
                    self.capacity
                )),
                TrySendError::Disconnected(_) => {
                    ApiError::Internal("embedding thread stopped".into())
                }
            });
        }
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ApiError::Embed(e)),
            Err(_) => Err(ApiError::Internal("embedding thread stopped".into())),
        }
    }

    /// Texts queued or being embedded.
    pub(crate) fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Reads the embedding threads' histograms.
    pub(crate) fn with_times<T>(&self, read: impl FnOnce(&EmbedTimes) -> T) -> T {
        read(&self.times.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct Worker {
    depth: Arc<AtomicUsize>,
    times: Arc<Mutex<EmbedTimes>>,
    max_batch: usize,
}

impl Worker {
    fn run(&self, embedder: &Embedder, rx: &Mutex<Receiver<Job>>) {
        loop {
            let jobs = {
                let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
                let Ok(first) = rx.recv() else { return };
                let mut jobs = vec![first];
                while jobs.len() < self.max_batch {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                jobs
            };
            let started = Instant::now();
            let texts: Vec<&str> = jobs.iter().map(|j| j.text.as_str()).collect();
            let result = embedder.embed_batch(&texts).map_err(Arc::new);
            self.depth.fetch_sub(jobs.len(), Ordering::Relaxed);
            {
                let took = started.elapsed().as_secs_f64();
                let mut times = self.times.lock().unwrap_or_else(|p| p.into_inner());
                for job in &jobs {
                    times
                        .wait
                        .observe(started.duration_since(job.queued).as_secs_f64());
                    times.batch.observe(took);
                }
                times.size.observe(jobs.len() as f64);
            }
            match result {
                Ok(vectors) => {
                    for (job, v) in jobs.into_iter().zip(vectors) {
                        let _ = job.reply.send(Ok(v));
                    }
                }
                Err(e) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}
