"""What scripts/st_reference.py and scripts/ort_reference.py share: arguments, the
sentences, the timing protocol (one text at a time, then batches of 8, 32 and 128 over
all texts) and the report the Rust benchmark (`--bench embed`) reads."""
import argparse
import json
import os
import time

import numpy as np

BATCHES = (8, 32, 128)


def args_and_texts():
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
    os.makedirs(args.out, exist_ok=True)
    return args, texts


def measure(encode, texts):
    """`encode(texts, batch_size)` -> (N, 384) array. Returns texts/s per batch size,
    single-text p50/p99 in ms, and the batch-32 vectors."""
    encode(texts[:64], 32)  # warm up
    lat = []
    t0 = time.perf_counter()
    for t in texts:
        s = time.perf_counter()
        encode([t], 1)
        lat.append(time.perf_counter() - s)
    rates = {"1": len(texts) / (time.perf_counter() - t0)}
    vectors = None
    for batch in BATCHES:
        t0 = time.perf_counter()
        v = encode(texts, batch)
        rates[str(batch)] = len(texts) / (time.perf_counter() - t0)
        if batch == 32:
            vectors = v
    lat.sort()
    pick = lambda p: lat[round(p / 100 * (len(lat) - 1))] * 1000
    return rates, pick(50), pick(99), vectors


def write(out, name, report, vectors):
    """OUT/NAME.json and OUT/NAME.f32 (N x 384 little-endian float32, input order)."""
    np.asarray(vectors, dtype="<f4").tofile(os.path.join(out, f"{name}.f32"))
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))
