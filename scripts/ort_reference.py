"""The ONNX Runtime side of scripts/bench-embed-vs-st.sh: all-MiniLM-L6-v2 exported locally
to ONNX from the same weights, run by onnxruntime on the CPU, as a user who wants fast CPU
embeddings would (the model's graph, mean pooling and L2 normalization in numpy, dynamic
padding to the longest text of each batch, truncation at 256 tokens).

Writes OUT/ort.json (texts/s per batch size, single-text p50/p99, load time, threads) and
OUT/ort.f32 (the batch-32 vectors, N x 384 float32 little-endian, input order).
"""
import argparse
import json
import os
import time

import numpy as np


def export(model_dir, path):
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager")

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            )
            return out.last_hidden_state

    model = Encoder().eval()
    ids = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            path,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    import onnxruntime as ort
    from transformers import AutoTokenizer

    with open(args.sentences, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()][: args.n]
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "minilm.onnx")
    export(args.model, onnx_path)

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(args.model)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t0

    def encode(batch):
        enc = tok(batch, padding=True, truncation=True, max_length=256, return_tensors="np")
        feeds = {
            "input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64),
            "token_type_ids": enc["token_type_ids"].astype(np.int64),
        }
        hidden = session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    encode(texts[:64])  # warm up
    lat = []
    t0 = time.perf_counter()
    for t in texts:
        s = time.perf_counter()
        encode([t])
        lat.append(time.perf_counter() - s)
    rates = {"1": len(texts) / (time.perf_counter() - t0)}
    vectors = None
    for batch in (8, 32, 128):
        t0 = time.perf_counter()
        out = [encode(texts[i : i + batch]) for i in range(0, len(texts), batch)]
        rates[str(batch)] = len(texts) / (time.perf_counter() - t0)
        if batch == 32:
            vectors = np.concatenate(out)
    lat.sort()
    pick = lambda p: lat[round(p / 100 * (len(lat) - 1))] * 1000
    report = {
        "texts": len(texts),
        "rates": rates,
        "p50_ms": pick(50),
        "p99_ms": pick(99),
        "load_ms": load_s * 1000,
        "onnxruntime": ort.__version__,
        "threads": options.intra_op_num_threads or os.cpu_count(),
    }
    np.asarray(vectors, dtype="<f4").tofile(os.path.join(args.out, "ort.f32"))
    with open(os.path.join(args.out, "ort.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
