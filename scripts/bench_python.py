"""engram.embed vs SentenceTransformer.encode in one Python process (scripts/bench-python.sh)."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

MODEL = os.environ.get("ENGRAM_MODEL_DIR") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "engram", "model"
)


def cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def rate(encode, texts, batch: int) -> float:
    encode(texts[:batch])  # warm up
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--n1", type=int, default=500)
    ap.add_argument("--n32", type=int, default=2000)
    a = ap.parse_args()
    with open(a.sentences, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()]

    print(f"cpu: {cpu_model()}")
    print(f"wheel: {os.path.basename(a.wheel)} {os.path.getsize(a.wheel) / 1e6:.1f} MB (model not included)")
    imp = subprocess.run(
        [sys.executable, "-c", "import time; t=time.perf_counter(); import engram; print(time.perf_counter()-t)"],
        check=True, capture_output=True, text=True,
    ).stdout
    print(f"import engram: {float(imp) * 1000:.0f} ms")
    rss = subprocess.run(
        [sys.executable, "-c",
         "import resource, engram; engram.embed(['warm up']); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
        check=True, capture_output=True, text=True,
    ).stdout
    print(f"resident memory after loading the model and one embed: {int(rss) / 1024:.0f} MB")

    import numpy as np

    import engram
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(MODEL, device="cpu")
    st.max_seq_length = 256
    # Alternating rounds, best of two each: one library's idle worker threads (rayon's,
    # PyTorch's OpenMP pool) spin for a while after a call and would tax whichever runs next.
    ours: dict = {1: 0.0, 32: 0.0}
    theirs: dict = {1: 0.0, 32: 0.0}
    # At batch 32 sentence-transformers gets its own best protocol: the whole list in one
    # encode(batch_size=32), which sorts texts by length to pad less; Engram, which never
    # pads, is fed plain chunks of 32.
    def st_rate(b: int, n: int) -> float:
        if b == 1:
            return rate(lambda t: st.encode(t, batch_size=1), texts[:n], 1)
        st.encode(texts[:64], batch_size=32)
        t0 = time.perf_counter()
        st.encode(texts[:n], batch_size=32)
        return n / (time.perf_counter() - t0)

    for _round in range(2):
        for b, n in ((1, a.n1), (32, a.n32)):
            theirs[b] = max(theirs[b], st_rate(b, n))
            time.sleep(1)
            ours[b] = max(ours[b], rate(lambda t: engram.embed(t), texts[:n], b))
            time.sleep(1)
    for b in (1, 32):
        r = ours[b] / theirs[b]
        target = 2.0
        print(f"batch {b:>2}: engram {ours[b]:7.1f} texts/s, sentence-transformers {theirs[b]:7.1f} texts/s, "
              f"{r:.2f}x (target >= {target:.0f}x: {'met' if r >= target else 'NOT met'})")
    a_ = engram.embed(texts[:200])
    b_ = st.encode(texts[:200], batch_size=32, normalize_embeddings=True)
    cos = (a_ * b_).sum(axis=1) / (np.linalg.norm(a_, axis=1) * np.linalg.norm(b_, axis=1))
    print(f"fidelity: worst cosine to sentence-transformers over 200 texts {cos.min():.6f}")
    print(f"peak resident memory of this process (both models): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
