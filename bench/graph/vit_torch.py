"""PyTorch reference for bench/graph/vit.bench.ts: the same ViT (timm layout) + per-patch mask
head + Dice loss, CPU, a fixed number of threads. Prints one JSON object on stdout.

usage: vit_torch.py DIM HEADS DEPTH IMG PATCH BATCH THREADS WARMUP ITERS
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = ((q * (d // h) ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, d, heads, depth, img, patch):
        super().__init__()
        n = (img // patch) ** 2
        self.patch_embed = nn.Conv2d(3, d, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, 1)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 1:]).squeeze(-1)


def dice(pred, target, eps=1e-3):
    inter = (pred * target).sum(1)
    return (1 - 2 * inter / ((pred * pred).sum(1) + eps + (target * target).sum(1) + eps)).mean()


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times[0]


def main():
    d, heads, depth, img, patch, batch, threads, warmup, iters = map(int, sys.argv[1:10])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ViT(d, heads, depth, img, patch)
    n = (img // patch) ** 2
    images = torch.randn(batch, 3, img, img)
    target = (torch.rand(batch, n) < 0.3).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)

    def forward():
        with torch.no_grad():
            return dice(torch.sigmoid(model(images)), target)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = dice(torch.sigmoid(model(images)), target)
        loss.backward()
        opt.step()

    fwd, fwd_min = timed(forward, warmup, iters)
    rss_fwd = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step, step_min = timed(train_step, warmup, iters)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    blas = "openblas" if "openblas" in open("/proc/self/maps").read() else "unknown"
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
        "forward_ms": fwd * 1e3, "forward_min_ms": fwd_min * 1e3,
        "step_ms": step * 1e3, "step_min_ms": step_min * 1e3,
        "peak_rss_forward_mb": rss_fwd / 1024, "peak_rss_mb": rss / 1024,
    }))


if __name__ == "__main__":
    main()
