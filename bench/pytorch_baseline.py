#!/usr/bin/python3
"""Same-run baseline for `trinity bench route`: a PyTorch (Debian python3-torch) Qwen3 prefill
of N tokens on the same checkpoint, final-RMSNorm hidden states only, written from the model
definition (no transformers). Prints JSON {torch_version, threads, dtype, cases: [{tokens,
median_ms}]}.

Usage: bench/pytorch_baseline.py MODEL_DIR [--tokens 32,128,512] [--repeat 5] [--threads 2]
                                           [--dtype bfloat16|float32]
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch


def load(model_dir, dtype):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    raw = open(os.path.join(model_dir, "model.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = memoryview(raw)[8 + n:]
    w = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        if info["dtype"] == "BF16":
            t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").copy())
        w[name] = t.reshape(info["shape"]).to(dtype)
    return cfg, w


def rms(x, weight, eps):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def forward(cfg, w, ids, dtype):
    n = ids.shape[0]
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][ids]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.arange(n).float()[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1).to(dtype)[None]
    sin = torch.cat([ang.sin(), ang.sin()], -1).to(dtype)[None]

    def rot(t):
        return torch.cat([-t[..., hd // 2:], t[..., :hd // 2]], -1)

    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(n, H, hd).transpose(0, 1)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
        q = rms(q, w[p + "self_attn.q_norm.weight"], eps)
        k = rms(k, w[p + "self_attn.k_norm.weight"], eps)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        g = H // KV
        k = k.repeat_interleave(g, 0)
        v = v.repeat_interleave(g, 0)
        s = (q @ k.transpose(1, 2)).float() / hd ** 0.5
        s = s + torch.triu(torch.full((n, n), float("-inf")), 1)
        a = torch.softmax(s, -1).to(dtype) @ v
        x = x + a.transpose(0, 1).reshape(n, H * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        gt = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gt) * up) @ w[p + "mlp.down_proj.weight"].T
    return rms(x, w["model.norm.weight"], eps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", default="32,128,512")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="bfloat16")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    cfg, w = load(a.model, dtype)
    out = {"torch_version": torch.__version__, "threads": a.threads, "dtype": a.dtype, "cases": []}
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for n in [int(t) for t in a.tokens.split(",")]:
            ids = torch.randint(0, 151643, (n,), generator=gen)
            forward(cfg, w, ids, dtype)  # warm-up
            ts = []
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                forward(cfg, w, ids, dtype)
                ts.append((time.perf_counter() - t0) * 1e3)
            out["cases"].append({"tokens": n, "median_ms": float(np.median(ts))})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
