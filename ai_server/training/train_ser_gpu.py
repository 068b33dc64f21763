"""Train SER CRNN members in PyTorch, on a GPU (the GPU machine has PyTorch, not TensorFlow or PyAV) or here.

The network is the twin of ``train_ser.build_ser_model`` (``CRNNS``) layer for layer; its weights, in the
order of the Keras model's ``weights``, load into the Keras graph that is served (``train_ser import-torch``).
One run does what ``train_ser train`` and then ``finetune --add half`` and ``--add all`` do with Keras, with
its recipe (windows per clip, class weights, AdamW, warm-up and cosine, label smoothing, EQ curve, crop or
shift, SpecAugment), batched on the device:

1. from scratch without the held-out speakers, scoring them every epoch, keeping the epoch with the best mean
   of the RAVDESS and CREMA-D accuracies;
2. that epoch fine-tuned with half of the held-out speakers (scoring the other half), then, again from it,
   with all of them.

The lease's working tree is capped at 64 MiB, so only the original mel dB of each clip travels (as a JPEG
mosaic, about 1 dB off on average) and the waveform variants of ``data_ser`` are made on the device in the
mel power domain, each with ``data_ser``'s odds: speed 0.9 and 1.1 (time stretched, mel axis warped),
noise (white or pink at 5-30 dB SNR), a room (an exponentially decaying power tail, RT60 0.15-0.9 s) and a
codec (band-limited to 4, 6 or 8 kHz, as Opus at 6-16 kbit/s).

``pack`` (run here: it needs the data and ``data_ser``'s mel cache) also writes the labels, speakers, and
the held-out clips' windows and weights exactly as the service cuts an upload. ``train`` writes
``<out>/<name>.npz``: the three stages' weights (``best/``, ``half/``, ``all/``), their per-epoch histories
and a probe (32 windows and the selected epoch's probabilities) for the import to check against.

    python -m ai_server.training.train_ser_gpu pack .gpu/speech.npz                # here (data + cache)
    python train_ser_gpu.py train .gpu/speech.npz OUT --name t8                    # there (PyTorch)
    # a lease runs every member side by side (one call, carry: .gpu/speech.npz; at most 8 files come back):
    # (t6, t7 and w10 were trained with Keras on the CPU for 2.6.0 and 2.7.0)
    #   for n in t8 t9 w11; do PYTHONUNBUFFERED=1 python3 ai_server/training/train_ser_gpu.py \
    #     train .gpu/speech.npz $OUT --name $n >> $OUT/train.log 2>&1 & done; wait
    python -m ai_server.training.train_ser import-torch t8 --weights OUT/t8.npz     # here -> RUNS_ROOT
"""

import argparse
import functools
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

LABELS = ("angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise")
CORPORA = ("ravdess", "crema-d", "tess")
CALM, NEUTRAL = LABELS.index("calm"), LABELS.index("neutral")
HELD_OUT = {  # as train_ser.HELD_OUT and ADDED["half"] (this file runs where ai_server cannot be imported)
    "ravdess": {f"ravdess:{a}" for a in range(15, 19)},
    "crema-d": {f"crema-d:{a}" for a in range(1064, 1076)},
    "tess": {"tess:OAF"},
}
HALF = {"ravdess:15", "ravdess:16", *(f"crema-d:{a}" for a in range(1064, 1070))}
# recurrent architectures (Keras: ``train_ser.build_ser_model``): conv widths, frame dense, GRU units each
# way, head dense
CRNNS = {
    "crnn": ((16, 32, 64, 128), 128, 64, 128),
    "crnn_wide": ((32, 64, 128, 256), 256, 128, 256),  # 4x the weights, for a GPU
}
# name -> (seed, windows per clip of RAVDESS, CREMA-D and TESS an epoch, architecture, epochs);
# train_ser.MEMBERS has them too
GPU_MEMBERS = {
    "t6": (31, (3, 2, 1), "crnn", 30),
    "t7": (37, (4, 2, 1), "crnn", 30),
    "t8": (41, (3, 2, 1), "crnn", 30),
    "t9": (43, (4, 2, 1), "crnn", 30),
    "w10": (47, (3, 2, 1), "crnn_wide", 40),
    "w11": (53, (4, 2, 1), "crnn_wide", 40),
}
N_MELS, WINDOW, TOP_DB, HOP_S = 64, 100, 80.0, 0.02
RANGE_DB = 112.0  # kept below each clip's loudest bin, in 255 steps
STEP_DB = RANGE_DB / 255
MOSAIC_WIDTH, QUALITY = 8192, 90
EQ_DB = 6.0
BATCH, PEAK_LR = 64, 2e-3
FINETUNE_EPOCHS, FINETUNE_LR = 5, 3e-4
VARIANTS = ("orig", "speed0.9", "speed1.1", "noise", "reverb", "opus")


def pack(path: Path) -> None:
    """The clips' original mel dB as one JPEG mosaic, with what ``Speech`` needs beside it."""
    import cv2
    import librosa

    from ai_server.audio.decode import SAMPLE_RATE, load_speech
    from ai_server.audio.features import FMAX, FMIN, mel_db, speech_windows, window_ranges
    from ai_server.training.data_ser import load_ser_corpora, pinkish
    from ai_server.training.train_ser import is_held_out

    clips = load_ser_corpora()
    frames, lengths, tops = [], [], []
    for clip in clips:
        db = clip.mels["orig"].astype(np.float32)
        tops.append(float(db.max()))
        frames.append(np.round(np.clip((db - tops[-1] + RANGE_DB) / STEP_DB, 0, 255)).astype(np.uint8))
        lengths.append(db.shape[1])
    frames = np.concatenate(frames, axis=1)
    rows = -(-frames.shape[1] // MOSAIC_WIDTH)
    grid = np.zeros((N_MELS, rows * MOSAIC_WIDTH), np.uint8)
    grid[:, : frames.shape[1]] = frames
    mosaic = grid.reshape(N_MELS, rows, MOSAIC_WIDTH).transpose(1, 0, 2).reshape(rows * N_MELS, MOSAIC_WIDTH)
    held = [i for i, c in enumerate(clips) if is_held_out(c)]
    ranges, weights, owner = [], [], []
    for i in held:
        served = speech_windows(load_speech(Path(clips[i].path).read_bytes()), "logmel")
        cuts = window_ranges(lengths[i])
        if len(cuts) != len(served.weights):
            raise RuntimeError(f"{clips[i].path}: the mel cache is not the served decode's")
        ranges += cuts
        weights += list(served.weights)
        owner += [i] * len(cuts)
    white = np.random.default_rng(0).standard_normal(10 * SAMPLE_RATE).astype(np.float32)
    # data_ser's white and pink noise of unit variance: their mean mel power per band
    shapes = [np.mean(10 ** (mel_db(n / np.std(n)) / 10), axis=1) for n in (white, pinkish(white))]
    hz = librosa.mel_frequencies(N_MELS + 2, fmin=FMIN, fmax=FMAX)[1:-1]

    np.savez(
        path,
        mosaic=np.frombuffer(cv2.imencode(".jpg", mosaic, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])[1], np.uint8),
        n_frames=frames.shape[1],
        lengths=np.asarray(lengths, np.int32),
        tops=np.asarray(tops, np.float32),
        labels=np.asarray([c.label for c in clips], np.int8),
        corpus=np.asarray([CORPORA.index(c.corpus) for c in clips], np.int8),
        speakers=np.asarray([c.speaker for c in clips]),
        held_ranges=np.asarray(ranges, np.int32),
        held_weights=np.asarray(weights, np.float64),
        held_owner=np.asarray(owner, np.int32),
        noise_shapes=np.stack(shapes).astype(np.float32),
        mel_hz=hz.astype(np.float32),
        band_shares=(np.gradient(hz) / (SAMPLE_RATE / 2)).astype(np.float32),  # of 0-8 kHz, per mel band
    )


def build(architecture: str):
    """The twin of ``build_ser_model(architecture)``, returning logits (Keras ends in a softmax)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    convs, frame, units, head = CRNNS[architecture]

    class CRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            widths = (1, *convs)
            self.convs = nn.ModuleList(
                nn.Conv2d(a, b, 3, padding=1, bias=False) for a, b in itertools.pairwise(widths)
            )
            self.norms = nn.ModuleList(nn.BatchNorm2d(b, eps=1e-3, momentum=0.01) for b in convs)
            self.frame = nn.Linear(N_MELS // 16 * convs[-1], frame)
            self.gru = nn.GRU(frame, units, batch_first=True, bidirectional=True)
            self.attention = nn.Linear(2 * units, 1)
            self.hidden = nn.Linear(4 * units, head)
            self.out = nn.Linear(head, len(LABELS))

        def forward(self, x):  # (N, 1, mels, frames)
            for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
                x = F.max_pool2d(torch.relu(norm(conv(x))), (2, 2) if i < 2 else (2, 1))
                if i >= 1:
                    x = F.dropout2d(x, 0.1, self.training)
            x = torch.relu(self.frame(x.permute(0, 3, 2, 1).flatten(2)))  # (N, frames, mels x channels)
            x, _ = self.gru(x)
            weights = torch.softmax(self.attention(x), dim=1)
            x = torch.cat([(weights * x).sum(1), x.amax(1)], 1)
            x = torch.relu(self.hidden(F.dropout(x, 0.4, self.training)))
            return self.out(F.dropout(x, 0.2, self.training))

    return CRNN()


def keras_weights(net) -> list[np.ndarray]:
    """The weights in the order of the Keras twin's ``weights``: conv kernels HWIO, batch norm, dense IO,
    GRU kernels with Keras' gate order (z, r, h; PyTorch's is r, z, n) and its two bias rows."""

    def a(t) -> np.ndarray:
        return t.detach().float().cpu().numpy().copy()  # not a view of a tensor that trains on

    def gates(t) -> np.ndarray:
        r, z, n = np.split(a(t), 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    out = []
    for conv, norm in zip(net.convs, net.norms, strict=True):
        out += [a(conv.weight).transpose(2, 3, 1, 0), a(norm.weight), a(norm.bias)]
        out += [a(norm.running_mean), a(norm.running_var)]
    out += [a(net.frame.weight).T, a(net.frame.bias)]
    for suffix in ("", "_reverse"):
        g = net.gru
        out += [gates(getattr(g, f"weight_ih_l0{suffix}")).T, gates(getattr(g, f"weight_hh_l0{suffix}")).T]
        out.append(
            np.stack([gates(getattr(g, f"bias_ih_l0{suffix}")), gates(getattr(g, f"bias_hh_l0{suffix}"))])
        )
    for layer in (net.attention, net.hidden, net.out):
        out += [a(layer.weight).T, a(layer.bias)]
    return out


class Speech:
    """``pack``'s clips on the device, and batched model inputs: augmented as ``train_ser.random_window``
    makes them, or cut as the service cuts an upload."""

    def __init__(self, path: Path, dev) -> None:
        import cv2
        import torch

        with np.load(path) as f:
            d = {k: f[k] for k in f.files}
        mosaic = cv2.imdecode(d["mosaic"], cv2.IMREAD_GRAYSCALE)
        rows = mosaic.shape[0] // N_MELS
        frames = mosaic.reshape(rows, N_MELS, MOSAIC_WIDTH).transpose(1, 0, 2).reshape(N_MELS, -1)
        self.dev = dev
        self.frames = torch.as_tensor(frames[:, : int(d["n_frames"])].copy(), device=dev)  # (mels, frames)
        self.lengths = torch.as_tensor(d["lengths"], device=dev).long()
        self.offsets = torch.cumsum(self.lengths, 0) - self.lengths
        self.tops = torch.as_tensor(d["tops"], device=dev)
        self.noise_shapes = torch.as_tensor(d["noise_shapes"], device=dev)
        hz = d["mel_hz"].astype(np.float64)
        # speed 0.9 and 1.1 move every frequency f to f x speed: bin k then reads the (fractional) bin of
        # f_k / speed
        self.speeds = torch.as_tensor([1.0, 0.9, 1.1], device=dev)
        self.warps = torch.as_tensor(
            np.stack([np.interp(hz / s, hz, np.arange(N_MELS)) for s in (1.0, 0.9, 1.1)]), device=dev
        ).float()
        self.band_shares = torch.as_tensor(d["band_shares"], device=dev)
        self.cutoffs = torch.as_tensor(
            [np.searchsorted(hz, c) for c in (4000.0, 6000.0, 8000.0)], device=dev
        )  # codec band limits as first mel bins lost
        self.labels = d["labels"].astype(np.int64)
        self.corpus = d["corpus"].astype(np.int64)
        self.speakers = d["speakers"]
        self.held_out = np.isin(self.speakers, sorted(set().union(*HELD_OUT.values())))
        self.half = np.isin(self.speakers, sorted(HALF))
        self.held_ranges = d["held_ranges"]
        self.held_weights = d["held_weights"]
        self.held_owner = d["held_owner"]

    def db(self, clip, start, left, count, speed):
        """(N, mels, WINDOW) dB and its valid frames (N, WINDOW): ``count`` frames from frame ``start`` of a
        clip played at ``speed`` (an index into ``speeds``), shifted right by ``left``."""
        import torch

        t = torch.arange(WINDOW, device=self.dev)[None] - left[:, None]
        valid = (t >= 0) & (t < count[:, None])
        pos = (start[:, None] + t.clamp(min=0)) * self.speeds[speed][:, None]
        pos = torch.minimum(pos, (self.lengths[clip] - 1)[:, None].float())
        first = pos.floor().long()
        frac = (pos - first)[:, None, :]
        base = self.offsets[clip][:, None]
        after = torch.minimum(first + 1, (self.lengths[clip] - 1)[:, None])

        def gather(index):
            n = index.shape[0]
            return (
                self.frames[:, (base + index).reshape(-1)].reshape(N_MELS, n, WINDOW).permute(1, 0, 2).float()
            )

        q = gather(first) * (1 - frac) + gather(after) * frac
        bins = self.warps[speed]  # (N, mels) fractional source bins
        low = bins.floor().long().clamp(max=N_MELS - 1)
        high = (low + 1).clamp(max=N_MELS - 1)
        w = (bins - low)[:, :, None]
        q = (
            q.gather(1, low[:, :, None].expand(-1, -1, WINDOW)) * (1 - w)
            + q.gather(1, high[:, :, None].expand(-1, -1, WINDOW)) * w
        )
        return q * STEP_DB + (self.tops[clip] - RANGE_DB)[:, None, None], valid

    def random_windows(self, clip, gen):
        """One augmented window of each clip: a random variant (``variant``), an EQ curve on 70 % of windows,
        standardised as the service does, SpecAugment."""
        import torch

        n, dev = clip.shape[0], self.dev
        variant = torch.randint(0, len(VARIANTS), (n,), device=dev, generator=gen)
        db, valid = self.variant(clip, variant, gen)
        k = torch.arange(N_MELS, device=dev) / (N_MELS - 1)
        coef = torch.randn(n, 3, device=dev, generator=gen)
        curve = sum(coef[:, j - 1 : j] * torch.cos(math.pi * j * k)[None] for j in range(1, 4))
        curve = EQ_DB * curve / curve.abs().amax(1, keepdim=True).clamp(min=1.0)
        db = (
            db
            + torch.where((torch.rand(n, device=dev, generator=gen) < 0.7)[:, None], curve, 0.0)[:, :, None]
        )
        return spec_augment(standardise(db, valid), gen)[:, None]

    def variant(self, clip, variant, gen):
        """A window of each clip in a variant (an index into ``VARIANTS``): a random crop, or a random shift
        half the time when the clip is shorter; (N, mels, WINDOW) dB and the valid frames."""
        import torch

        n, dev = clip.shape[0], self.dev

        def u(lo: float = 0.0, hi: float = 1.0):
            return torch.rand(n, device=dev, generator=gen) * (hi - lo) + lo

        speed = torch.where(variant <= 2, variant, 0)
        length = (self.lengths[clip] / self.speeds[speed]).floor().long()
        start = (u() * (length - WINDOW + 1).clamp(min=1)).long() * (length > WINDOW)
        left = (u() * (WINDOW - length + 1).clamp(min=1)).long()
        left = torch.where((length <= WINDOW) & (u() < 0.5), left, 0)
        db, valid = self.db(clip, start, left, length.clamp(max=WINDOW), speed)
        power = 10 ** (db / 10)
        # the waveform's power, as data_ser's SNR takes it: each band's power over white noise's of unit
        # variance is the spectrum's level there, times the band's share of 0-8 kHz
        level = (power * valid[:, None]).sum(2) / valid.sum(1, keepdim=True) / self.noise_shapes[0]
        signal = (level * self.band_shares).sum(1)
        pink = (u() < 0.5).long()
        noise = self.noise_shapes[pink] * (signal / 10 ** (u(5, 30) / 10))[:, None]
        noisy = power + noise[:, :, None]
        # a room: each band's power plus an exponentially decaying tail of 0.09-1 of its energy (as
        # data_ser's room, which starts within the first frame)
        rt60 = u(0.15, 0.9)
        k = torch.arange(int(0.9 / HOP_S) + 1, device=dev)[None].float()
        tail = torch.exp(-13.8 * k * HOP_S / rt60[:, None])
        response = tail / tail.sum(1, keepdim=True) * (u(0.3, 1.0) ** 2)[:, None] + (k == 0)
        size = 2 * WINDOW + k.shape[1]  # linear, not circular, convolution along time
        room = torch.fft.irfft(torch.fft.rfft(power, size) * torch.fft.rfft(response, size)[:, None], size)[
            ..., :WINDOW
        ]
        band = (
            torch.arange(N_MELS, device=dev)[None]
            < self.cutoffs[torch.randint(0, 3, (n,), device=dev, generator=gen)][:, None]
        )
        codec = power * torch.where(band, 1.0, 1e-4)[:, :, None]
        pick = variant[:, None, None]
        power = torch.where(
            pick == 3, noisy, torch.where(pick == 4, room, torch.where(pick == 5, codec, power))
        )
        return 10 * torch.log10(power.clamp(min=1e-10)), valid

    @functools.cached_property
    def held_inputs(self):
        """Every held-out window as the service cuts it (built once: every stage and the probe use them)."""
        import torch

        clip = torch.as_tensor(self.held_owner, device=self.dev).long()
        ranges = torch.as_tensor(self.held_ranges, device=self.dev).long()
        zero = torch.zeros_like(clip)
        return standardise(*self.db(clip, ranges[:, 0], zero, ranges[:, 1] - ranges[:, 0], zero))[:, None]


def standardise(db, valid):
    """``features.window_input(..., "logmel")`` batched: clipped ``TOP_DB`` below the window's loudest bin,
    standardised over its valid frames, padded with its minimum."""
    import torch

    mask = valid[:, None, :].expand(-1, N_MELS, -1)
    big = torch.finfo(db.dtype).max
    db = torch.maximum(db, torch.where(mask, db, -big).amax((1, 2), keepdim=True) - TOP_DB)
    cells = mask.sum((1, 2), keepdim=True)
    mean = torch.where(mask, db, 0.0).sum((1, 2), keepdim=True) / cells
    var = torch.where(mask, (db - mean) ** 2, 0.0).sum((1, 2), keepdim=True) / cells
    x = (db - mean) / var.sqrt().clamp(min=1e-3)
    return torch.where(mask, x, torch.where(mask, x, big).amin((1, 2), keepdim=True))


def spec_augment(x, gen):
    """Two frequency masks (<= 8 bins) and two time masks (<= 12 frames) per window, set to 0."""
    import torch

    n, mels, frames = x.shape
    dev = x.device
    for size, limit, axis in ((mels, 8, 1), (mels, 8, 1), (frames, 12, 2), (frames, 12, 2)):
        width = torch.randint(0, limit + 1, (n,), device=dev, generator=gen)
        first = (torch.rand(n, device=dev, generator=gen) * (size - width + 1)).long()
        pos = torch.arange(size, device=dev)[None]
        hit = (pos >= first[:, None]) & (pos < (first + width)[:, None])
        x = x.masked_fill(hit[:, :, None] if axis == 1 else hit[:, None, :], 0.0)
    return x


def scores(data: Speech, net, clips: np.ndarray) -> dict[str, float]:
    """Held-out accuracy per corpus of the ``overall`` the service answers (weighted window mean), ``calm``
    counted as ``neutral`` on corpora without it, on the clips of ``clips`` (a mask over all clips)."""
    import torch

    net.eval()
    with torch.no_grad():
        probs = (
            torch.cat([torch.softmax(net(x), 1) for x in data.held_inputs.split(1024)]).double().cpu().numpy()
        )
    net.train()
    overall = np.zeros((len(clips), len(LABELS)))
    total = np.zeros(len(clips))
    np.add.at(overall, data.held_owner, probs * data.held_weights[:, None])
    np.add.at(total, data.held_owner, data.held_weights)
    pred = overall.argmax(1)
    out = {}
    for c, corpus in enumerate(CORPORA):
        idx = clips & (data.corpus == c) & (total > 0)
        if idx.any():
            p = pred[idx] if corpus == "ravdess" else np.where(pred[idx] == CALM, NEUTRAL, pred[idx])
            out[corpus] = round(float(np.mean(p == data.labels[idx])), 4)
    return out


def fit(data: Speech, net, name: str, train: np.ndarray, held: np.ndarray, epochs: int, lr: float, gen):
    """``train_ser.fit`` on the device: the clips of ``train`` (a mask), warm-up to ``lr`` then cosine, the
    clips of ``held`` scored every epoch. Returns the history and, trained from scratch (``PEAK_LR``), the
    best epoch's weights by the selection mean; fine-tuned, the last epoch's."""
    import torch
    import torch.nn.functional as F

    per_clip = np.asarray(GPU_MEMBERS[name][1])[data.corpus]
    order_np = np.repeat(np.flatnonzero(train), per_clip[train])
    counts = np.bincount(data.labels[order_np], minlength=len(LABELS)).astype(np.float64)
    w = np.sqrt(counts.sum() / (len(LABELS) * np.maximum(counts, 1)))
    class_w = torch.as_tensor(w / np.mean(w[counts > 0]), device=data.dev, dtype=torch.float32)
    order = torch.as_tensor(order_np, device=data.dev)
    labels = torch.as_tensor(data.labels, device=data.dev)
    steps_per_epoch = math.ceil(len(order) / BATCH)
    steps, warm = epochs * steps_per_epoch, epochs * steps_per_epoch // 20
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3, eps=1e-7)
    history, best, best_state, step, keep_best = [], -1.0, None, 0, lr == PEAK_LR
    net.train()
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        perm = order[torch.randperm(len(order), device=data.dev, generator=gen)]
        right, weight_sum = torch.zeros(2, device=data.dev)  # summed on the device: no sync a step
        for batch in perm.split(BATCH):
            rate = (
                lr * step / warm
                if step < warm
                else lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / (steps - warm)))
            )
            for group in opt.param_groups:
                group["lr"] = rate
            y = labels[batch]
            logits = net(data.random_windows(batch, gen))
            sw = class_w[y]
            loss = (F.cross_entropy(logits, y, reduction="none", label_smoothing=0.1) * sw).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            right += (sw * (logits.argmax(1) == y)).sum().detach()
            weight_sum += sw.sum()
        entry = {"epoch": epoch, "train_accuracy": round(float(right / weight_sum), 4)}
        if held.any():
            entry["held_out"] = scores(data, net, held)
            if {"ravdess", "crema-d"} <= entry["held_out"].keys():
                entry["select"] = round((entry["held_out"]["ravdess"] + entry["held_out"]["crema-d"]) / 2, 4)
        entry["seconds"] = round(time.time() - t0, 1)
        history.append(entry)
        print(name, json.dumps(entry), flush=True)
        if keep_best and entry["select"] > best:
            best = entry["select"]
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return history, best_state if keep_best else net.state_dict()


def train(data_path: Path, out: Path, name: str, epochs: int | None, finetune_epochs: int) -> None:
    """Member ``name`` from scratch, then fine-tuned with half and with all held-out speakers (module doc)."""
    import torch

    seed, _, architecture, member_epochs = GPU_MEMBERS[name]
    epochs = epochs or member_epochs
    torch.manual_seed(seed)
    torch.backends.cudnn.allow_tf32 = False  # the probe is float32, as the Keras twin on a CPU
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    data = Speech(data_path, dev)
    held = data.held_out
    net = build(architecture).to(dev)
    print(f"{name}: {int((~held).sum())} training clips, {int(held.sum())} held out", flush=True)
    result = {}
    history, state = fit(data, net, name, ~held, held, epochs, PEAK_LR, gen)
    net.load_state_dict(state)
    selected = max(history, key=lambda h: h["select"])["epoch"]
    net.eval()
    with torch.no_grad():
        probe_x = data.held_inputs[:32]
        probe_p = torch.softmax(net(probe_x), 1)
    result |= {"probe_x": probe_x.cpu().numpy(), "probe_p": probe_p.cpu().numpy(), "selected": selected}
    result |= {f"best/w{i:02d}": w for i, w in enumerate(keras_weights(net))}
    result["history/best"] = json.dumps(history)
    save(result, out / f"{name}.npz")
    for stage, added in (("half", data.half), ("all", held)):
        net.load_state_dict(state)
        gen.manual_seed(seed)
        history, _ = fit(data, net, name, ~held | added, held & ~added, finetune_epochs, FINETUNE_LR, gen)
        result |= {f"{stage}/w{i:02d}": w for i, w in enumerate(keras_weights(net))}
        result[f"history/{stage}"] = json.dumps(history)
        save(result, out / f"{name}.npz")
    print(f"{name}: done, selected epoch {selected}", flush=True)


def save(result: dict, path: Path) -> None:
    """Each stage as it ends, so that a run cut short by the lease still returns the stages it finished."""
    np.savez_compressed(path.with_suffix(".tmp.npz"), **result)
    path.with_suffix(".tmp.npz").replace(path)


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
    p_train.add_argument("--epochs", type=int, help="the member's unless given")
    p_train.add_argument("--finetune-epochs", type=int, default=FINETUNE_EPOCHS)
    args = parser.parse_args()
    if args.cmd == "pack":
        pack(args.path)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        train(args.data, args.out, args.name, args.epochs, args.finetune_epochs)


if __name__ == "__main__":
    sys.exit(main())
