"""PyTorch oracle for the method's trainable graphs (run with Debian's /usr/bin/python3).

usage: method_oracle.py JOB IN.safetensors OUT.safetensors
JOB is one of:
  point    IN: mask_logits [B,R,R], target, known [B,N,N], fallback [B], box [B,R,R]
           OUT: loss [B], mil [B], grad [B,R,R] (of the batch mean of loss w.r.t. the logits)
  decoder  IN: tokens [B,1+N*N,D], cotangent [B,R,R], param:<prefix><name> for every weight
           OUT: logits [B,R,R], grad:tokens, grad:<prefix><name> (of sum(logits * cotangent))
  timm     IN: images [B,3,S,S]
           OUT: a ViT-S/16 state dict with timm's names at 224 (14 x 14 grid) written to the path
           in metadata "weights"; tokens and attention of the forward at S, the position table
           resampled like timm's resample_abs_pos_embed (bicubic, antialias=True)
Numbers come from the metadata "job" JSON (lambda_mil, grid, outSize, channels, prefix, depth,
seed). Written independently of the TypeScript graphs.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_oracle import read_safetensors, vit_forward, write_safetensors  # noqa: E402


def dice(pred, target, eps=1e-3):
    pred, target = pred.flatten(1), target.flatten(1)
    return 1 - 2 * (pred * target).sum(1) / ((pred * pred).sum(1) + eps + (target * target).sum(1) + eps)


def point(t, lam):
    logits = t["mask_logits"].double().requires_grad_(True)
    m = torch.sigmoid(logits)
    r, n = m.shape[1], t["target"].shape[1]
    pooled = F.avg_pool2d(m[:, None], r // n)[:, 0]
    box = t["box"].double()
    mil = dice(m.amax(1), box.amax(1)) + dice(m.amax(2), box.amax(2))
    loss = dice(pooled * t["known"].double(), t["target"].double()) + t["fallback"].double() * lam * mil
    loss.mean().backward()
    return {"loss": loss, "mil": mil.detach(), "grad": logits.grad}


def decoder(t, job):
    pre, n, size, c = job["prefix"], job["grid"], job["outSize"], job["channels"]
    P = {k[len("param:") :]: v.clone().requires_grad_(True) for k, v in t.items() if k.startswith("param:")}
    w = lambda name: P[pre + name]  # noqa: E731
    tokens = t["tokens"].clone().requires_grad_(True)
    b, _, d = tokens.shape
    x = tokens[:, 1:].reshape(b, n, n, d).permute(0, 3, 1, 2)
    x = F.gelu(F.conv2d(x, w("proj.weight"), w("proj.bias")))
    side, stage = n, 0
    while side < size:
        side = min(2 * side, size)
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
        x = F.gelu(F.conv2d(x, w(f"up.{stage}.weight"), w(f"up.{stage}.bias"), padding=1))
        stage += 1
    x = F.conv2d(x, w("fuse.weight"), w("fuse.bias"), padding=1)
    hidden = F.gelu(F.linear(tokens[:, 0], w("instance.fc1.weight"), w("instance.fc1.bias")))
    vector = F.linear(hidden, w("instance.fc2.weight"), w("instance.fc2.bias"))
    logits = torch.einsum("bc,bchw->bhw", vector, x) / c**0.5 + w("logit_bias")
    (logits * t["cotangent"]).sum().backward()
    out = {"logits": logits, "grad:tokens": tokens.grad}
    out.update({"grad:" + k: v.grad for k, v in P.items()})
    return out


def timm_state_dict(depth, seed, d=384, p=16, grid=14):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape, s=0.02: torch.randn(*shape, generator=g) * s  # noqa: E731
    sd = {"cls_token": r(1, 1, d), "pos_embed": r(1, 1 + grid * grid, d), "patch_embed.proj.weight": r(d, 3, p, p),
          "patch_embed.proj.bias": r(d), "norm.weight": 1 + r(d), "norm.bias": r(d), "head.weight": r(1000, d), "head.bias": r(1000)}
    for i in range(depth):
        k = f"blocks.{i}."
        sd.update({k + "norm1.weight": 1 + r(d), k + "norm1.bias": r(d), k + "attn.qkv.weight": r(3 * d, d), k + "attn.qkv.bias": r(3 * d),
                   k + "attn.proj.weight": r(d, d), k + "attn.proj.bias": r(d), k + "norm2.weight": 1 + r(d), k + "norm2.bias": r(d),
                   k + "mlp.fc1.weight": r(4 * d, d), k + "mlp.fc1.bias": r(4 * d), k + "mlp.fc2.weight": r(d, 4 * d), k + "mlp.fc2.bias": r(d)})
    return sd


def resample_pos_embed(pos, grid):
    # timm.layers.resample_abs_pos_embed with its defaults: class token kept, bicubic, antialias.
    d = pos.shape[-1]
    old = int(round((pos.shape[1] - 1) ** 0.5))
    table = pos[:, 1:].reshape(1, old, old, d).permute(0, 3, 1, 2)
    table = F.interpolate(table, size=(grid, grid), mode="bicubic", align_corners=False, antialias=True)
    return torch.cat([pos[:, :1], table.permute(0, 2, 3, 1).reshape(1, grid * grid, d)], 1)


def timm(t, job):
    sd = timm_state_dict(job["depth"], job["seed"])
    write_safetensors(job["weights"], sd)
    images = t["images"]
    grid = images.shape[-1] // 16
    P = dict(sd, pos_embed=resample_pos_embed(sd["pos_embed"], grid))
    cfg = {"embedDim": 384, "numHeads": 6, "patchSize": 16, "layerNormEps": 1e-6, "depth": job["depth"], "attentionLayer": -1}
    tokens, attention = vit_forward(P, images, cfg)
    return {"tokens": tokens, "attention": attention}


def main():
    torch.set_num_threads(1)
    name, src, dst = sys.argv[1:4]
    t, meta = read_safetensors(src)
    job = json.loads(meta.get("job", "{}"))
    if name == "point":
        out = point(t, job["lambda_mil"])
    elif name == "decoder":
        out = decoder(t, job)
    elif name == "timm":
        out = timm(t, job)
    else:
        raise SystemExit(f"unknown job {name}")
    write_safetensors(dst, out)


if __name__ == "__main__":
    main()
