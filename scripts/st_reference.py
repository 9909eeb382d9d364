"""The reference side of scripts/bench-embed-vs-st.sh: sentence-transformers on PyTorch.

Embeds the first N benchmark sentences with all-MiniLM-L6-v2 at batch 1, 8, 32 and 128,
times each, and writes what the Rust side compares against:
  OUT/st.json  texts/s per batch size, single-text p50/p99, load time, torch threads
  OUT/st.f32   the batch-32 vectors, N x 384 little-endian float32, in input order
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.sentences, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()][: args.n]
    if len(texts) < args.n:
        raise SystemExit(f"only {len(texts)} sentences in {args.sentences}")

    t0 = time.perf_counter()
    model = SentenceTransformer(args.model, device="cpu")
    load_s = time.perf_counter() - t0
    model.encode(texts[:64], batch_size=32)  # warm up

    lat = []
    t0 = time.perf_counter()
    for t in texts:
        s = time.perf_counter()
        model.encode([t], batch_size=1)
        lat.append(time.perf_counter() - s)
    rates = {"1": len(texts) / (time.perf_counter() - t0)}

    vectors = None
    for batch in (8, 32, 128):
        t0 = time.perf_counter()
        v = model.encode(texts, batch_size=batch, normalize_embeddings=True)
        rates[str(batch)] = len(texts) / (time.perf_counter() - t0)
        if batch == 32:
            vectors = v

    lat.sort()
    pick = lambda p: lat[round(p / 100 * (len(lat) - 1))] * 1000
    report = {
        "texts": len(texts),
        "rates": rates,
        "p50_ms": pick(50),
        "p99_ms": pick(99),
        "load_ms": load_s * 1000,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    os.makedirs(args.out, exist_ok=True)
    np.asarray(vectors, dtype="<f4").tofile(os.path.join(args.out, "st.f32"))
    with open(os.path.join(args.out, "st.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
