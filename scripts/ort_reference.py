"""The ONNX Runtime side of scripts/bench-embed-vs-st.sh: all-MiniLM-L6-v2 exported locally
to ONNX from the same weights, run by onnxruntime on the CPU, as a user who wants fast CPU
embeddings would (the model's graph, mean pooling and L2 normalization in numpy, dynamic
padding to the longest text of each batch, truncation at 256 tokens).

Writes OUT/ort.json (texts/s per batch size, single-text p50/p99, load time, threads) and
OUT/ort.f32 (the batch-32 vectors, N x 384 float32 little-endian, input order).
"""
import os
import time

import numpy as np

from reference_common import args_and_texts, measure, write


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
    args, texts = args_and_texts()

    import onnxruntime as ort
    from transformers import AutoTokenizer

    onnx_path = os.path.join(args.out, "minilm.onnx")
    export(args.model, onnx_path)

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(args.model)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t0

    def run(batch):
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

    def encode(batch_texts, batch_size):
        chunks = range(0, len(batch_texts), batch_size)
        return np.concatenate([run(batch_texts[i : i + batch_size]) for i in chunks])

    rates, p50, p99, vectors = measure(encode, texts)
    report = {
        "texts": len(texts),
        "rates": rates,
        "p50_ms": p50,
        "p99_ms": p99,
        "load_ms": load_s * 1000,
        "onnxruntime": ort.__version__,
        "threads": options.intra_op_num_threads or os.cpu_count(),
    }
    write(args.out, "ort", report, vectors)


if __name__ == "__main__":
    main()
