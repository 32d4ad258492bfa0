"""PyTorch oracle for the graph engine's parity tests (run with Debian's /usr/bin/python3).

usage: torch_oracle.py IN.safetensors OUT.safetensors

IN holds float32 tensors and, in __metadata__["job"], a JSON job description:
  {"vit": {imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, layerNormEps, attentionLayer},
   "diceEps": float, "adamw": {lr, beta1, beta2, eps, weightDecay, step}}
Tensors: "param:<timm name>" (encoder + mask_head.*), "images" [B,C,S,S], "target" [B,N],
and for the pure AdamW check "adamw:p:<k>", "adamw:g:<k>", "adamw:m:<k>", "adamw:v:<k>".

OUT holds what torch computes: "loss", "attention", "logits", "grad:<name>",
"step_param:<name>" (one torch.optim.AdamW step from zero state on torch's own gradients), and
"adamw:new_p:<k>", "adamw:new_m:<k>", "adamw:new_v:<k>" (one AdamW step from the given state).

The model is written independently of the TypeScript graph: timm's layout with torch.nn.functional
(conv2d patch embedding, F.layer_norm, F.gelu, F.softmax).
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + b : base + e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        raw = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(b"".join(blobs))


def vit_forward(P, images, cfg):
    d, heads, p = cfg["embedDim"], cfg["numHeads"], cfg["patchSize"]
    eps = cfg["layerNormEps"]
    depth = cfg["depth"]
    layer = cfg["attentionLayer"] % depth
    x = F.conv2d(images, P["patch_embed.proj.weight"], P["patch_embed.proj.bias"], stride=p)
    b = x.shape[0]
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([P["cls_token"].expand(b, -1, -1), x], dim=1) + P["pos_embed"]
    t = x.shape[1]
    attention = None
    for i in range(depth):
        k = f"blocks.{i}."
        y = F.layer_norm(x, (d,), P[k + "norm1.weight"], P[k + "norm1.bias"], eps)
        qkv = F.linear(y, P[k + "attn.qkv.weight"], P[k + "attn.qkv.bias"]).reshape(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        q, kk, v = qkv.unbind(0)
        probs = F.softmax((q * (d // heads) ** -0.5) @ kk.transpose(-2, -1), dim=-1)
        o = (probs @ v).transpose(1, 2).reshape(b, t, d)
        x = x + F.linear(o, P[k + "attn.proj.weight"], P[k + "attn.proj.bias"])
        if i == layer:
            attention = probs[:, :, 1:, 1:].mean(dim=1)
        z = F.layer_norm(x, (d,), P[k + "norm2.weight"], P[k + "norm2.bias"], eps)
        x = x + F.linear(F.gelu(F.linear(z, P[k + "mlp.fc1.weight"], P[k + "mlp.fc1.bias"])), P[k + "mlp.fc2.weight"], P[k + "mlp.fc2.bias"])
    x = F.layer_norm(x, (d,), P["norm.weight"], P["norm.bias"], eps)
    return x, attention


def dice(pred, target, eps):
    # MAL: eps added to each sum of squares; per sample, then the batch mean.
    pred = pred.flatten(1)
    target = target.flatten(1)
    inter = (pred * target).sum(1)
    return (1 - 2 * inter / ((pred * pred).sum(1) + eps + (target * target).sum(1) + eps)).mean()


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tensors, meta = read_safetensors(sys.argv[1])
    job = json.loads(meta["job"])
    cfg = job["vit"]
    out = {}

    names = [k[len("param:") :] for k in tensors if k.startswith("param:")]
    P = {n: tensors["param:" + n].clone().requires_grad_(True) for n in names}
    tokens, attention = vit_forward(P, tensors["images"], cfg)
    logits = F.linear(tokens[:, 1:], P["mask_head.weight"], P["mask_head.bias"]).squeeze(-1)
    loss = dice(torch.sigmoid(logits), tensors["target"], job["diceEps"])
    loss.backward()
    out["loss"] = loss.reshape([])
    out["attention"] = attention
    out["logits"] = logits
    for n in names:
        out["grad:" + n] = P[n].grad

    a = job["adamw"]
    opt = torch.optim.AdamW(list(P.values()), lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"], weight_decay=a["weightDecay"])
    opt.step()
    for n in names:
        out["step_param:" + n] = P[n]

    keys = [k[len("adamw:p:") :] for k in tensors if k.startswith("adamw:p:")]
    for k in keys:
        p = tensors["adamw:p:" + k].clone().requires_grad_(True)
        p.grad = tensors["adamw:g:" + k].clone()
        o = torch.optim.AdamW([p], lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"], weight_decay=a["weightDecay"])
        # Resume from the given state: `step` updates already taken before this one.
        o.state[p] = {
            "step": torch.tensor(float(a["step"] - 1)),
            "exp_avg": tensors["adamw:m:" + k].clone(),
            "exp_avg_sq": tensors["adamw:v:" + k].clone(),
        }
        o.step()
        out["adamw:new_p:" + k] = p
        out["adamw:new_m:" + k] = o.state[p]["exp_avg"]
        out["adamw:new_v:" + k] = o.state[p]["exp_avg_sq"]

    write_safetensors(sys.argv[2], out)


if __name__ == "__main__":
    main()
