"""PyTorch reference for bench/speed/speed.bench.ts: the generator's training step of exits —
ViT encoder (timm layout, from bench/graph/vit_torch.py) + MAL-style mask decoder, student on the
augmented crop, EMA teacher on the plain crop, mean-field CRF of their average, point loss with
the MIL fallback + λ·Dice(M, CRF), AdamW, EMA update — same shapes, CPU, fixed threads.
Prints one JSON object on stdout.

usage: generator_torch.py DIM HEADS DEPTH IMG PATCH STRIDE CHANNELS BATCH CRF_ITERS THREADS WARMUP ITERS
"""
import copy
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "graph"))
from vit_torch import Block, timed  # noqa: E402


class Generator(nn.Module):
    def __init__(self, d, heads, depth, img, patch, stride, c):
        super().__init__()
        self.grid = img // patch
        self.out = img // stride
        n = self.grid ** 2
        self.patch_embed = nn.Conv2d(3, d, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.proj = nn.Conv2d(d, c, 1)
        stages = int(math.log2(self.out // self.grid))
        self.up = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(stages)])
        self.fuse = nn.Conv2d(c, c, 3, padding=1)
        self.fc1 = nn.Linear(d, c)
        self.fc2 = nn.Linear(c, c)
        self.bias = nn.Parameter(torch.zeros(1))
        self.c = c

    def forward(self, images):
        b = images.shape[0]
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        g = self.grid
        f = F.gelu(self.proj(x[:, 1:].transpose(1, 2).reshape(b, -1, g, g)))
        for conv in self.up:
            f = F.interpolate(f, scale_factor=2, mode="bilinear", align_corners=False)
            f = F.gelu(conv(f))
        f = self.fuse(f)
        v = self.fc2(F.gelu(self.fc1(x[:, 0])))
        logits = torch.einsum("bc,bchw->bhw", v, f) / math.sqrt(self.c) + self.bias
        return torch.sigmoid(logits)


def dice(pred, target, eps=1e-3):
    pred, target = pred.flatten(1), target.flatten(1)
    return 1 - 2 * (pred * target).sum(1) / ((pred * pred).sum(1) + eps + (target * target).sum(1) + eps)


def mil(mask, box):
    return dice(mask.amax(1), box.amax(1)) + dice(mask.amax(2), box.amax(2))


@torch.no_grad()
def crf(prob, image, box, iters, zeta=0.1):
    b, h, w = prob.shape
    pad = F.pad(image, (1, 1, 1, 1))
    inside = F.pad(torch.ones(1, 1, h, w), (1, 1, 1, 1))
    offs = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    k = torch.cat([
        torch.exp(-((image - pad[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]) ** 2).sum(1, keepdim=True) / (2 * zeta ** 2))
        * inside[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        for dy, dx in offs], 1)
    bm = box[:, None]
    fg = (prob[:, None] * bm).clamp(0.1, 0.9)

    def agg(nl):
        p = F.pad(nl, (1, 1, 1, 1))
        return (k * torch.cat([p[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in offs], 1)).sum(1, keepdim=True)

    for _ in range(iters):
        fg = (torch.sigmoid(agg(-torch.log(1 - fg)) - agg(-torch.log(fg))) * bm).clamp(0.1, 0.9)
    return (fg[:, 0] >= 0.5).float()


def main():
    d, heads, depth, img, patch, stride, c, batch, crf_iters, threads, warmup, iters = map(int, sys.argv[1:13])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    student = Generator(d, heads, depth, img, patch, stride, c)
    teacher = copy.deepcopy(student).requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-3, betas=(0.9, 0.9), weight_decay=5e-4)
    g, r = img // patch, img // stride
    images = torch.randn(batch, 3, img, img)
    plain = torch.randn(batch, 3, img, img)
    crf_image = torch.rand(batch, 3, r, r)
    box = torch.zeros(batch, r, r)
    box[:, r // 6:r - r // 6, r // 6:r - r // 6] = 1
    target = (torch.rand(batch, g, g) < 0.3).float()
    known = (torch.rand(batch, g, g) < 0.6).float()
    fallback = (torch.rand(batch) < 0.3).float()

    def step():
        m = student(images)
        with torch.no_grad():
            refined = crf((m + teacher(plain)) / 2, crf_image, box, crf_iters)
        pooled = F.avg_pool2d(m[:, None], r // g)[:, 0]
        point = (dice(pooled * known, target) + fallback * 4 * mil(m, box)).mean()
        loss = point + 0.5 * dice(m, refined).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pt, ps in zip(teacher.parameters(), student.parameters()):
                pt.mul_(0.996).add_(ps, alpha=0.004)

    median, best = timed(step, warmup, iters)
    print(json.dumps({
        "torch": torch.__version__, "threads": threads, "step_ms": median * 1e3, "best_ms": best * 1e3,
        "crops_per_second": batch / median, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": torch.__config__.show().count("OpenBLAS") > 0,
    }))


if __name__ == "__main__":
    main()
