"""The reference side of scripts/bench-embed-vs-st.sh: sentence-transformers on PyTorch.

Embeds the first N benchmark sentences with all-MiniLM-L6-v2 one at a time and at batch
8, 32 and 128, and writes what the Rust side compares against:
  OUT/st.json  texts/s per batch size, single-text p50/p99, load time, torch threads
  OUT/st.f32   the batch-32 vectors, N x 384 little-endian float32, in input order
"""
import resource
import time

import torch
from sentence_transformers import SentenceTransformer

from reference_common import args_and_texts, measure, write


def main():
    args, texts = args_and_texts()
    t0 = time.perf_counter()
    model = SentenceTransformer(args.model, device="cpu")
    load_s = time.perf_counter() - t0

    def encode(batch_texts, batch_size):
        return model.encode(batch_texts, batch_size=batch_size, normalize_embeddings=True)

    rates, p50, p99, vectors = measure(encode, texts)
    report = {
        "texts": len(texts),
        "rates": rates,
        "p50_ms": p50,
        "p99_ms": p99,
        "load_ms": load_s * 1000,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    write(args.out, "st", report, vectors)


if __name__ == "__main__":
    main()
