"""Train residual FER members from scratch on a GPU in PyTorch (the GPU machine has PyTorch, not TensorFlow).

The network is the twin of ``train_fer.build_resnet_stages`` layer for layer (3x3 "same" convolutions, batch
norm with Keras' epsilon, 2x2 max pooling, global average pooling, one dense layer), so its weights load into
the Keras graph that is served (``train_fer.py import-torch``). Everything runs on the GPU: the faces sit in
GPU memory, augmentation is batched there (mirror, affine, brightness and contrast, random erasing), the
schedule follows wall-clock time (warm-up, then cosine to zero over ``--minutes``) so that a run fits a lease.

Input: ``pack`` (run where the data is) writes FER2013 Training, PublicTest and RAF-DB train as 48x48 grey
uint8, as ``preprocess_face(..., equalise=False)`` sees them, with RAF-DB's fixed 15 % hold-out apart.
Output per member: ``<out>/<name>.npz``, the last weights keyed ``<keras layer>/<weight>``, with the scores on
PublicTest and the RAF-DB hold-out (face and mirror image) printed every 5 epochs.

    python -m ai_server.training.train_fer_gpu pack .gpu/faces.npz          # here (needs the data)
    python train_fer_gpu.py train .gpu/faces.npz OUT --name g64 --minutes 6  # there (needs PyTorch + GPU)
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

# name -> (stem width, ((channels, blocks) per stage at 24, 12 and 6 px), dropout); train_fer builds the twins
ARCHS = {
    "r48": (32, ((48, 2), (96, 2), (192, 2)), 0.4),
    "r64": (32, ((64, 2), (128, 2), (256, 2)), 0.4),
    "r64d": (32, ((64, 2), (128, 3), (192, 3)), 0.4),
}
CLASSES = 7
# the members trained on a GPU (issue 12's lease: the first three side by side for 7 minutes, then the
# other two for 4.6): name -> (arch, seed)
GPU_MEMBERS = {
    "g48": ("r48", 11),
    "g64": ("r64", 12),
    "g64d": ("r64d", 13),
    "g48b": ("r48", 21),
    "g64b": ("r64", 22),
}


# the lease's working tree is capped at 64 MiB: faces travel as JPEG mosaics (8x8 blocks never straddle two
# 48x48 faces); FER2013 at quality 95 comes back within 0.05 grey levels on average (it was JPEG already),
# RAF-DB (resized here) at 92 within 2
QUALITY = {"xf": 95, "xv": 95, "xr": 92, "xh": 92}
PER_ROW = 128


def pack(path: Path) -> None:
    import cv2

    from ai_server.training.data import load_rafdb, load_split, rafdb_holdout_mask

    xf, yf = load_split("train", raw=True)
    xv, yv = load_split("val", raw=True)
    xr, yr = load_rafdb(equalised=False)
    xr = np.round((xr[..., 0] + 1.0) * 127.5).astype(np.uint8)
    hold = rafdb_holdout_mask(yr)
    faces = {"xf": xf, "xv": xv, "xr": xr[~hold], "xh": xr[hold]}
    labels = {"yf": yf, "yv": yv, "yr": yr[~hold], "yh": yr[hold]}
    jpegs = {}
    for key, x in faces.items():
        rows = -(-len(x) // PER_ROW)
        x = np.concatenate([x, np.zeros((rows * PER_ROW - len(x), 48, 48), np.uint8)])
        mosaic = x.reshape(rows, PER_ROW, 48, 48).transpose(0, 2, 1, 3).reshape(rows * 48, PER_ROW * 48)
        jpegs[key] = np.frombuffer(
            cv2.imencode(".jpg", mosaic, [cv2.IMWRITE_JPEG_QUALITY, QUALITY[key]])[1], np.uint8
        )
    np.savez(path, **jpegs, **labels)


def unpack(path: Path) -> dict[str, np.ndarray]:
    """``pack``'s faces as (N, 48, 48) uint8 and labels."""
    import cv2

    with np.load(path) as f:
        out = {k: f[k] for k in f.files if k.startswith("y")}
        for key in QUALITY:
            mosaic = cv2.imdecode(f[key], cv2.IMREAD_GRAYSCALE)
            tiles = mosaic.reshape(-1, 48, PER_ROW, 48).transpose(0, 2, 1, 3).reshape(-1, 48, 48)
            out[key] = tiles[: len(out["y" + key[1:]])]
    return out


def build(arch: str):
    import torch
    from torch import nn

    stem, stages, dropout = ARCHS[arch]

    def conv_bn(cin: int, cout: int, k: int) -> list:
        return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout, eps=1e-3)]

    class Block(nn.Module):
        def __init__(self, cin: int, ch: int) -> None:
            super().__init__()
            self.c0, self.n0 = conv_bn(cin, ch, 3)
            self.c1, self.n1 = conv_bn(ch, ch, 3)
            self.p, self.pn = conv_bn(cin, ch, 1) if cin != ch else (None, None)

        def forward(self, x):
            shortcut = x if self.p is None else self.pn(self.p(x))
            y = self.n1(self.c1(torch.relu(self.n0(self.c0(x)))))
            return torch.relu(y + shortcut)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem, self.stemn = conv_bn(1, stem, 3)
            self.blocks = nn.ModuleDict()
            cin = stem
            for i, (ch, count) in enumerate(stages):
                for k in range(count):
                    self.blocks[f"s{i}b{k}"] = Block(cin, ch)
                    cin = ch
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(cin, CLASSES)

        def forward(self, x):
            x = torch.relu(self.stemn(self.stem(x)))
            for name, block in self.blocks.items():
                if name.endswith("b0"):
                    x = nn.functional.max_pool2d(x, 2)
                x = block(x)
            return self.head(self.drop(x.mean((2, 3))))

    return Net()


def keras_weights(net) -> dict[str, np.ndarray]:
    """The weights under Keras names: conv kernels HWIO, batch norm gamma/beta/moving stats, dense IO."""
    out = {}
    for name, module in net.named_modules():
        keras_name = name.replace("blocks.", "").replace(".", "")
        kind = type(module).__name__
        if kind == "Conv2d":
            out[f"{keras_name}/kernel"] = module.weight.detach().float().permute(2, 3, 1, 0).cpu().numpy()
        elif kind == "BatchNorm2d":
            for key, t in (
                ("gamma", module.weight),
                ("beta", module.bias),
                ("moving_mean", module.running_mean),
                ("moving_variance", module.running_var),
            ):
                out[f"{keras_name}/{key}"] = t.detach().float().cpu().numpy()
        elif kind == "Linear":
            out[f"{keras_name}/kernel"] = module.weight.detach().float().t().cpu().numpy()
            out[f"{keras_name}/bias"] = module.bias.detach().float().cpu().numpy()
    return out


def augment(x, gen):
    """Mirror, rotation +-15 deg, scale 0.85-1.15, shift +-10 %, brightness/contrast, random erasing."""
    import torch
    import torch.nn.functional as F

    n, dev = x.shape[0], x.device

    def u(lo: float, hi: float):
        return torch.rand(n, device=dev, generator=gen) * (hi - lo) + lo

    angle = u(-15, 15) * math.pi / 180
    scale = u(0.85, 1.15)
    flip = torch.where(torch.rand(n, device=dev, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, u(-0.2, 0.2)], 1), torch.stack([sin * flip, cos, u(-0.2, 0.2)], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    x = (x * u(0.7, 1.3)[:, None, None, None] + u(-0.2, 0.2)[:, None, None, None]).clamp(-1, 1)
    # random erasing: a rectangle of 2-20 % of the face filled with noise, on half the faces
    size = x.shape[-1]
    area = u(0.02, 0.2) * size * size
    ratio = torch.exp(u(math.log(0.3), math.log(3.3)))
    h = (area * ratio).sqrt().clamp(1, size).long()
    w = (area / ratio).sqrt().clamp(1, size).long()
    top = (torch.rand(n, device=dev, generator=gen) * (size - h + 1)).long()
    left = (torch.rand(n, device=dev, generator=gen) * (size - w + 1)).long()
    rows = torch.arange(size, device=dev)
    inside_r = (rows[None] >= top[:, None]) & (rows[None] < (top + h)[:, None])
    inside_c = (rows[None] >= left[:, None]) & (rows[None] < (left + w)[:, None])
    mask = (
        inside_r[:, :, None]
        & inside_c[:, None, :]
        & (torch.rand(n, device=dev, generator=gen) < 0.5)[:, None, None]
    )
    noise = torch.rand(x.shape, device=dev, generator=gen) * 2 - 1
    return torch.where(mask[:, None], noise, x)


def train(
    data: Path, out: Path, name: str, minutes: float, raf_copies: int = 2, batch: int = 256, lr: float = 0.1
) -> None:
    """Train member ``name`` of ``GPU_MEMBERS`` for ``minutes`` of wall-clock time (SGD with Nesterov
    momentum, weight decay 5e-4, label smoothing 0.1, bfloat16 on a GPU)."""
    import torch
    import torch.nn.functional as F

    arch, seed = GPU_MEMBERS[name]
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False  # float32 convolutions stay float32 (the probe); training is bf16
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    f = unpack(data)

    def tensors(x: np.ndarray, y: np.ndarray):
        faces = torch.as_tensor(x, device=dev).float().div_(127.5).sub_(1.0)[:, None]
        return faces, torch.as_tensor(y, device=dev)

    x_train, y_train = tensors(
        np.concatenate([f["xf"]] + [f["xr"]] * raf_copies), np.concatenate([f["yf"]] + [f["yr"]] * raf_copies)
    )
    checks = {"val": tensors(f["xv"], f["yv"]), "raf_hold": tensors(f["xh"], f["yh"])}
    net = build(arch).to(dev).to(memory_format=torch.channels_last)
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
        lr=lr,
        momentum=0.9,
        nesterov=True,
    )
    budget, warmup = minutes * 60, 0.03
    amp = dict(device_type=dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")

    def evaluate() -> dict[str, float]:
        net.eval()
        scores = {}
        with torch.no_grad(), torch.autocast(**amp):
            for key, (x, y) in checks.items():
                probs = sum(
                    F.softmax(net(v.contiguous(memory_format=torch.channels_last)).float(), 1)
                    for v in (x, x.flip(3))
                )
                scores[key] = (probs.argmax(1) == y).float().mean().item()
        net.train()
        return scores

    start, epoch = time.time(), 0
    print(
        f"{name}: {arch}, {len(y_train)} faces an epoch, {sum(p.numel() for p in net.parameters())} weights",
        flush=True,
    )
    while time.time() - start < budget:
        order = torch.randperm(len(y_train), device=dev, generator=gen)
        for i in range(0, len(order) - batch + 1, batch):
            done = (time.time() - start) / budget
            if done >= 1:
                break
            rate = lr * (
                done / warmup
                if done < warmup
                else 0.5 * (1 + math.cos(math.pi * (done - warmup) / (1 - warmup)))
            )
            for group in opt.param_groups:
                group["lr"] = rate
            idx = order[i : i + batch]
            x = augment(x_train[idx], gen).contiguous(memory_format=torch.channels_last)
            target = F.one_hot(y_train[idx], CLASSES).float() * 0.9 + 0.1 / CLASSES
            with torch.autocast(**amp):
                loss = torch.sum(-target * F.log_softmax(net(x).float(), 1), 1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epoch += 1
        if epoch % 5 == 0 or time.time() - start >= budget:
            scores = evaluate()
            mean = (scores["val"] + scores["raf_hold"]) / 2
            print(
                f"{name} epoch {epoch} {time.time() - start:.0f}s lr {rate:.4f} loss {loss.item():.3f} "
                f"val {scores['val']:.4f} raf_hold {scores['raf_hold']:.4f} mean {mean:.4f}",
                flush=True,
            )
            # the latest weights, and the float32 probabilities of the first 256 val faces (as decoded here)
            # for the Keras import to check against
            with torch.no_grad():
                net.eval()
                probe = F.softmax(net(checks["val"][0][:256]), 1).cpu().numpy()
                net.train()
            np.savez_compressed(
                out / f"{name}.tmp.npz",
                epoch=epoch,
                probe=probe,
                probe_faces=f["xv"][:256],
                **scores,
                **keras_weights(net),
            )
            (out / f"{name}.tmp.npz").replace(out / f"{name}.npz")
    print(f"{name}: done, {epoch} epochs", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_pack = sub.add_parser("pack")
    p_pack.add_argument("path", type=Path)
    p_train = sub.add_parser("train")
    p_train.add_argument("data", type=Path)
    p_train.add_argument("out", type=Path)
    p_train.add_argument("--name", choices=sorted(GPU_MEMBERS), required=True)
    p_train.add_argument("--minutes", type=float, default=6.0)
    args = parser.parse_args()
    if args.cmd == "pack":
        pack(args.path)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        train(args.data, args.out, args.name, args.minutes)


if __name__ == "__main__":
    sys.exit(main())
