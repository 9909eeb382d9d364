//! Micro-batching: concurrent text requests share one forward pass.
//!
//! The model is several times faster per text in a batch than alone, so embedding runs on
//! a dedicated thread (never on the async workers) that takes every text waiting in a
//! bounded queue, up to `max_batch`, and embeds them together. While one batch runs, the
//! next one collects. A full queue answers 503 at once instead of growing without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use engram_embed::{EmbedError, Embedder};
use tokio::sync::oneshot;

use crate::error::ApiError;

struct Job {
    text: String,
    reply: oneshot::Sender<Result<Vec<f32>, Arc<EmbedError>>>,
}

/// A handle to the embedding thread.
pub(crate) struct EmbedPool {
    tx: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    capacity: usize,
}

impl EmbedPool {
    /// Starts the embedding thread. It ends when the pool is dropped.
    pub(crate) fn start(embedder: Arc<Embedder>, queue: usize, max_batch: usize) -> Self {
        let (tx, rx) = sync_channel(queue);
        let depth = Arc::new(AtomicUsize::new(0));
        let worker_depth = depth.clone();
        std::thread::Builder::new()
            .name("engram-embed".into())
            .spawn(move || run(&embedder, &rx, max_batch, &worker_depth))
            .expect("spawn embedding thread");
        Self {
            tx,
            depth,
            capacity: queue,
        }
    }

    /// Embeds one text, batched with whatever else is waiting.
    pub(crate) async fn embed(&self, text: String) -> Result<Vec<f32>, ApiError> {
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(Job { text, reply }) {
            Ok(()) => {
                self.depth.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Busy(format!(
                    "{} texts are waiting to be embedded",
                    self.capacity
                )));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Internal("embedding thread stopped".into()));
            }
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
}

fn run(embedder: &Embedder, rx: &Receiver<Job>, max_batch: usize, depth: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let texts: Vec<&str> = jobs.iter().map(|j| j.text.as_str()).collect();
        let result = embedder.embed_batch(&texts).map_err(Arc::new);
        depth.fetch_sub(jobs.len(), Ordering::Relaxed);
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
