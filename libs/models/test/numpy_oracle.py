"""NumPy oracle for Sinkhorn and MAL's mean-field CRF (run with Debian's /usr/bin/python3).

usage: numpy_oracle.py JOB IN.safetensors OUT.safetensors
  sinkhorn  IN: s [B,M,M]     OUT: doubly [B,M,M], iterations [B], deviation [B]
            rows then columns per round, an object stops once every row and column sum is
            within tol of 1, at most max_iter rounds (float64 here).
  crf       IN: prob [B,R,R], image [B,3,R,R], box [B,R,R]   OUT: refined [B,R,R] (not binarised)
            MAL's formulation literally: the image shifted by +10 and zero-padded so that the
            weights of neighbours beyond the border vanish, the centre inside the window,
            x_l / (1e-6 + sum_l x_l).
Numbers come from the metadata "job" JSON. Written independently of the TypeScript graphs;
needs only NumPy.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = data[8 + n + b : 8 + n + e]
        out[name] = np.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).copy()
    return out, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(tensors[name])), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(b"".join(blobs))


def sinkhorn(s, max_iter, tol):
    doubly, its, devs = [], [], []
    for x in s.astype(np.float64):
        x = np.maximum(x, 1e-12)
        n, dev = 0, np.inf
        while n < max_iter and dev > tol:
            x = x / x.sum(axis=1, keepdims=True)
            x = x / x.sum(axis=0, keepdims=True)
            n += 1
            dev = max(np.abs(x.sum(axis=1) - 1).max(), np.abs(x.sum(axis=0) - 1).max())
        doubly.append(x)
        its.append(n)
        devs.append(dev)
    return {"doubly": np.stack(doubly), "iterations": np.array(its), "deviation": np.array(devs)}


def unfold(x, k):
    """[B, C, H, W] -> [B, C, k*k, H, W]: the k x k window of every pixel, zeros beyond the border."""
    r = k // 2
    h, w = x.shape[-2:]
    p = np.pad(x, ((0, 0), (0, 0), (r, r), (r, r)))
    return np.stack([p[:, :, dy : dy + h, dx : dx + w] for dy in range(k) for dx in range(k)], axis=2)


def crf(prob, image, box, iters, zeta, kernel=3, low=0.1, high=0.9):
    feat = image.astype(np.float64) + 10
    kern = np.exp(-(((unfold(feat, kernel) - feat[:, :, None]) ** 2) / (2 * zeta**2)).sum(axis=1))  # [B, K, H, W]
    box = box.astype(np.float64)
    x = np.clip(prob.astype(np.float64) * box, low, high)
    for _ in range(iters):
        both = np.stack([1 - x, x], axis=1)  # [B, 2, H, W]
        agg = (unfold(-np.log(both), kernel) * kern[:, None]).sum(axis=2)
        e = np.exp(-agg)
        e[:, 1] *= box
        x = np.clip(e / (1e-6 + e.sum(axis=1, keepdims=True)), low, high)[:, 1]
    return x


def main():
    name, src, dst = sys.argv[1:4]
    t, meta = read_safetensors(src)
    job = json.loads(meta.get("job", "{}"))
    if name == "sinkhorn":
        out = sinkhorn(t["s"], job["max_iter"], job["tol"])
    elif name == "crf":
        out = {"refined": crf(t["prob"], t["image"], t["box"], job["iterations"], job["zeta"], job.get("kernel", 3))}
    else:
        raise SystemExit(f"unknown job {name}")
    write_safetensors(dst, out)


if __name__ == "__main__":
    main()
