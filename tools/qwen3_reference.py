#!/usr/bin/python3
"""Independent float64 Qwen3 forward (numpy only) for tests: final-RMSNorm hidden states.

Usage: qwen3_reference.py MODEL_DIR IDS_JSON OUT.npy

Reads config.json and model.safetensors (or a sharded model.safetensors.index.json) with its
own minimal safetensors parser, widens every weight to float64 exactly, and runs the
Hugging Face Qwen3 forward in float64 (RoPE angles as transformers computes them: inv_freq and
positions in float32). Written from the model definition, sharing no code with trinity.cpp.
"""
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = data[b:e]
        dt = info["dtype"]
        if dt == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32).astype(np.float64)
        else:
            raise SystemExit(f"unsupported dtype {dt}")
        out[name] = a.reshape(info["shape"])
    return out


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    w = {}
    if os.path.exists(idx):
        for f in sorted(set(json.load(open(idx))["weight_map"].values())):
            w.update(read_safetensors(os.path.join(model_dir, f)))
    else:
        w.update(read_safetensors(os.path.join(model_dir, "model.safetensors")))
    return cfg, w


def rms(x, weight, eps):
    return weight * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def forward(cfg, w, ids):
    n = len(ids)
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][np.array(ids)]
    inv_freq = (1.0 / (np.float32(cfg["rope_theta"]) ** (np.arange(0, hd, 2, dtype=np.float32) / np.float32(hd)))).astype(np.float32)
    ang = (np.arange(n, dtype=np.float32)[:, None] * inv_freq[None, :]).astype(np.float32).astype(np.float64)
    cos, sin = np.cos(ang), np.sin(ang)
    cos = np.concatenate([cos, cos], axis=-1)[:, None, :]
    sin = np.concatenate([sin, sin], axis=-1)[:, None, :]

    def rot(t):
        half = hd // 2
        return np.concatenate([-t[..., half:], t[..., :half]], axis=-1)

    mask = np.triu(np.full((n, n), -np.inf), 1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(n, H, hd)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(n, KV, hd)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(n, KV, hd)
        q = rms(q, w[p + "self_attn.q_norm.weight"], eps)
        k = rms(k, w[p + "self_attn.k_norm.weight"], eps)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        g = H // KV
        out = np.zeros((n, H, hd))
        for hh in range(H):
            s = q[:, hh, :] @ k[:, hh // g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            out[:, hh, :] = s @ v[:, hh // g, :]
        x = x + out.reshape(n, H * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        gt = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + ((gt / (1 + np.exp(-gt))) * up) @ w[p + "mlp.down_proj.weight"].T
    return rms(x, w["model.norm.weight"], eps)


def main():
    model_dir, ids_path, out_path = sys.argv[1:4]
    cfg, w = load(model_dir)
    ids = json.load(open(ids_path))
    np.save(out_path, forward(cfg, w, ids).astype(np.float32))


if __name__ == "__main__":
    main()
