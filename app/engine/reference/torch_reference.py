"""PyTorch check of the TypeScript CPU reference (app/engine/reference/model.ts).

Usage: python3 torch_reference.py DIR

DIR holds `case.json` (dims, tensor list, prompt ids) and one raw little-endian float32 file per
tensor, plus `pixels.f32`. Writes `logits.f32`: the logits of every prompt position, [n, rows].
Written independently from the TypeScript code, with torch ops in float64: torch.round rounds
half to even, F.gelu is the exact erf GELU, and RoPE is rotate-half as OLMo applies it.
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main(folder):
    case = json.load(open(f"{folder}/case.json"))
    llm, vision = case["llm"], case["vision"]

    def t(name):
        shape = case["tensors"][name]
        data = np.fromfile(f"{folder}/{case['files'][name]}", dtype="<f4")
        return torch.from_numpy(data.astype(np.float64)).reshape(shape)

    # Vision tower.
    size, p = vision["imageSize"], vision["patchSize"]
    pixels = torch.from_numpy(np.fromfile(f"{folder}/pixels.f32", dtype="<f4").astype(np.float64)).reshape(1, 3, size, size)
    v = "vision_tower.vision_model."
    patches = F.conv2d(pixels, t(v + "embeddings.patch_embedding.weight"), stride=p)  # [1, hidden, g, g]
    patches = patches.flatten(2).transpose(1, 2)[0]
    x = torch.cat([t(v + "embeddings.class_embedding")[None], patches]) + t(v + "embeddings.position_embedding.weight")
    hidden, eps = vision["hidden"], vision["eps"]
    x = F.layer_norm(x, (hidden,), t(v + "pre_layrnorm.weight"), t(v + "pre_layrnorm.bias"), eps)
    heads = vision["nHeads"]
    for i in range(vision["layersUsed"]):
        l = f"{v}encoder.layers.{i}."
        lin = lambda name, inp: F.linear(inp, t(l + name + ".weight"), t(l + name + ".bias"))
        h = F.layer_norm(x, (hidden,), t(l + "layer_norm1.weight"), t(l + "layer_norm1.bias"), eps)
        q, k, vv = (lin(f"self_attn.{n}_proj", h).reshape(-1, heads, hidden // heads).transpose(0, 1) for n in "qkv")
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hidden // heads), dim=-1) @ vv
        x = x + lin("self_attn.out_proj", a.transpose(0, 1).reshape(-1, hidden))
        h = F.layer_norm(x, (hidden,), t(l + "layer_norm2.weight"), t(l + "layer_norm2.bias"), eps)
        h = lin("mlp.fc1", h)
        h = h * torch.sigmoid(1.702 * h) if vision["act"] == "quick_gelu" else F.gelu(h)
        x = x + lin("mlp.fc2", h)
    if vision["dropCls"]:
        x = x[1:]
    image = F.linear(F.gelu(F.linear(x, t("mm_projector.0.weight"), t("mm_projector.0.bias"))), t("mm_projector.2.weight"), t("mm_projector.2.bias"))

    # Language model.
    wte = t("transformer.wte.weight")
    rows = [image if i == -200 else wte[i][None] for i in case["promptIds"]]
    x = torch.cat(rows)
    n, d = x.shape
    nh, hd = llm["nHeads"], llm["headDim"]

    def bitlinear(inp, name):
        w = t(name + ".codes")
        sw = case["scales"][name]
        xn = inp / torch.sqrt(inp.pow(2).mean(-1, keepdim=True) + 1e-5)
        sx = 127 / xn.abs().amax(-1, keepdim=True).clamp(min=1e-5)
        xq = (xn * sx).round().clamp(-128, 127)
        return (xq @ w.T) / (sx * sw)

    inv = 1.0 / (llm["ropeTheta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(n, dtype=torch.float64), inv)
    pos = torch.cat([freqs, freqs], -1)

    def rope(z):  # [heads, n, hd]
        z1, z2 = z[..., : hd // 2], z[..., hd // 2 :]
        return z * pos.cos() + torch.cat([-z2, z1], -1) * pos.sin()

    norm = lambda z: F.layer_norm(z, (d,), eps=llm["eps"])
    mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(llm["nLayers"]):
        b = f"transformer.blocks.{i}."
        qkv = bitlinear(norm(x), b + "att_proj")
        if llm["clipQkv"] is not None:
            qkv = qkv.clamp(-llm["clipQkv"], llm["clipQkv"])
        q, k, vv = (z.reshape(n, nh, hd).transpose(0, 1) for z in qkv.split(d, -1))
        a = torch.softmax(rope(q) @ rope(k).transpose(1, 2) / math.sqrt(hd) + mask, -1) @ vv
        x = x + bitlinear(a.transpose(0, 1).reshape(n, d), b + "attn_out")
        u, gate = bitlinear(norm(x), b + "ff_proj").chunk(2, -1)
        x = x + bitlinear(F.silu(gate) * u, b + "ff_out")
    logits = norm(x) @ wte.T
    logits.numpy().astype("<f4").tofile(f"{folder}/logits.f32")


if __name__ == "__main__":
    main(sys.argv[1])
