#!/usr/bin/python3
"""Same-run baseline for `trinity bench export`: PyTorch (Debian python3-torch)
torch.linalg.svd(full_matrices=False) in float32 of the nine SVF export matrices of a checkpoint
(embedding, the seven matrices of layer num_hidden_layers - 2, and the LM head -- the embedding
again when tied), on --threads threads. The export needs these decompositions and more (the
reconstruction and the writes), so this is a lower bound for an SVD-based PyTorch export.
Prints JSON {torch_version, threads, repeat, total_ms (median of the per-run sums),
matrices: [{name, shape, median_ms}]}.

Usage: bench/pytorch_svd_baseline.py MODEL_DIR [--threads 2] [--repeat 1] [--layer L]
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch

LAYER_MATRICES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                  "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def load_matrices(model_dir, layer):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    if layer < 0:
        layer = cfg["num_hidden_layers"] - 2
    names = ["model.embed_tokens.weight"]
    names += [f"model.layers.{layer}.{m}.weight" for m in LAYER_MATRICES]
    names.append("model.embed_tokens.weight" if cfg.get("tie_word_embeddings", False)
                 else "lm_head.weight")
    with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = []
        for name in names:
            info = header[name]
            b, e = info["data_offsets"]
            f.seek(base + b)
            raw = bytearray(f.read(e - b))
            if info["dtype"] == "BF16":
                t = torch.frombuffer(raw, dtype=torch.bfloat16)
            elif info["dtype"] == "F16":
                t = torch.frombuffer(raw, dtype=torch.float16)
            else:
                t = torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy())
            out.append((name, t.reshape(info["shape"]).float().contiguous()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--layer", type=int, default=-1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    mats = load_matrices(a.model_dir, a.layer)
    times = [[] for _ in mats]
    for _ in range(a.repeat):
        for i, (_, w) in enumerate(mats):
            t0 = time.perf_counter()
            torch.linalg.svd(w, full_matrices=False)
            times[i].append((time.perf_counter() - t0) * 1000.0)
    sums = sorted(sum(t[r] for t in times) for r in range(a.repeat))
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": a.threads,
        "repeat": a.repeat,
        "total_ms": sums[len(sums) // 2],
        "matrices": [{"name": n, "shape": list(w.shape), "median_ms": float(np.median(t))}
                     for (n, w), t in zip(mats, times)],
    }, indent=2))


if __name__ == "__main__":
    main()
