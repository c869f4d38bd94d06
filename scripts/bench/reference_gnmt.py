#!/usr/bin/env python3
"""PyTorch-eager reference of gnmt's GNMT model, written the way a researcher would (as in NVIDIA's GNMT
example): standard nn.LSTM (packed bidirectional bottom encoder layer), nn.Linear, nn.Embedding, normalized
Bahdanau attention as a tensor expression, label-smoothed cross-entropy, Adam, gradient clipping.

It reads the files `gnmt bench` writes (--dump-batches, --dump-test), so that both programs run on the same
batches, sentences and weights; it prints "result KEY VALUE" lines with the keys `gnmt bench` prints.

  reference_gnmt.py train --batches FILE [--threads N] [--warmup 2] [--device cuda] [--precision bf16]
  reference_gnmt.py translate --ids FILE [--beam 5] [--threads N]     (weights: FILE.weights)
"""
import argparse
import math
import resource
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD, UNK, BOS, EOS = 0, 1, 2, 3


def parse_value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_header(lines):
    """'# section k=v ...' lines -> {section: {k: v}}."""
    header = {}
    for line in lines:
        if not line.startswith("#"):
            break
        words = line[1:].split()
        header[words[0]] = {k: parse_value(v) for k, v in (w.split("=", 1) for w in words[1:])}
    return header


def residual(layer, residual_start, in_width, out_width):
    return layer >= residual_start and in_width == out_width


class Attention(nn.Module):
    """Normalized Bahdanau attention: g * (v / |v|) . tanh(W_q q + W_k k + b)."""

    def __init__(self, query_dim, key_dim, units):
        super().__init__()
        self.query_proj = nn.Linear(query_dim, units, bias=False)
        self.key_proj = nn.Linear(key_dim, units)
        self.v = nn.Parameter(torch.empty(units).uniform_(-0.1, 0.1))
        self.g = nn.Parameter(torch.full((1,), math.sqrt(1.0 / units)))

    def forward(self, queries, keys, values, mask):
        """queries (B, T, Q), keys (B, S, U), values (B, S, K), mask (B, S) -> context (B, T, K), weights."""
        q = self.query_proj(queries)
        v = self.g * self.v / self.v.norm()
        scores = torch.tanh(q.unsqueeze(2) + keys.unsqueeze(1)).matmul(v)  # (B, T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, -1)
        return torch.bmm(weights, values), weights


class Encoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        E, H = o["emb_dim"], o["hidden_size"]
        self.o = o
        self.bottom = nn.LSTM(E, H, bidirectional=True)
        self.layers = nn.ModuleList(nn.LSTM(2 * H if l == 2 else H, H) for l in range(2, o["enc_layers"] + 1))
        self.dropout = nn.Dropout(o["dropout"])

    def forward(self, emb, lengths):
        H = self.o["hidden_size"]
        packed = pack_padded_sequence(emb, lengths, enforce_sorted=False)
        x, _ = self.bottom(packed)
        x, _ = pad_packed_sequence(x, total_length=emb.size(0))  # (S, B, 2H)
        for i, lstm in enumerate(self.layers):
            layer = i + 2
            y, _ = lstm(self.dropout(x))
            x = y + x if residual(layer, self.o["residual_start"], x.size(-1), H) else y
        return x


class Decoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        E, H = o["emb_dim"], o["hidden_size"]
        self.o = o
        self.layers = nn.ModuleList(nn.LSTM(E if l == 1 else 2 * H, H) for l in range(1, o["dec_layers"] + 1))
        self.attention = Attention(H, H, H)
        self.dropout = nn.Dropout(o["dropout"])

    def forward(self, emb, keys, values, mask, state=None):
        """emb (T, B, E) -> top outputs (T, B, H), new per-layer states, attention weights (B, T, S)."""
        H, rs = self.o["hidden_size"], self.o["residual_start"]
        state = state or [None] * len(self.layers)
        new_state = []
        x, s = self.layers[0](self.dropout(emb), state[0])
        new_state.append(s)
        if residual(1, rs, emb.size(-1), H):
            x = x + emb
        context, weights = self.attention(x.transpose(0, 1), keys, values, mask)
        context = context.transpose(0, 1)
        for i in range(1, len(self.layers)):
            y, s = self.layers[i](self.dropout(torch.cat([x, context], -1)), state[i])
            new_state.append(s)
            x = y + x if residual(i + 1, rs, H, H) else y
        return x, new_state, weights


class GNMT(nn.Module):
    def __init__(self, o):
        super().__init__()
        V, E = o["vocab_size"], o["emb_dim"]
        self.o = o
        self.src_embedding = nn.Embedding(V, E)
        self.tgt_embedding = self.src_embedding if o["share_embeddings"] else nn.Embedding(V, E)
        self.encoder = Encoder(o)
        self.decoder = Decoder(o)
        self.output = None if o["tie_output"] else nn.Linear(o["hidden_size"], V, bias=False)
        self.output_bias = nn.Parameter(torch.zeros(V))
        self.dropout = nn.Dropout(o["dropout"])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name not in ("decoder.attention.g", "output_bias"):
                    p.uniform_(-0.1, 0.1)

    def encode(self, src, lengths):
        out = self.encoder(self.dropout(self.src_embedding(src)), lengths).transpose(0, 1).contiguous()
        keys = self.decoder.attention.key_proj(out)  # computed once per source batch
        return keys, out, (src != PAD).t()

    def project(self, hidden):
        w = self.tgt_embedding.weight if self.output is None else self.output.weight
        return F.linear(self.dropout(hidden), w, self.output_bias)

    def forward(self, src, lengths, tgt_in):
        keys, values, mask = self.encode(src, lengths)
        hidden, _, _ = self.decoder(self.tgt_embedding(tgt_in), keys, values, mask)
        return self.project(hidden)


def load_gnmt_weights(model, path):
    """Reads gnmt's weights file (bench_files.h) and loads it under this module's names."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"GNMTW1\n"):
        sys.exit(f"{path}: not a gnmt weights file (expected it to start with GNMTW1)")
    pos = 7
    (count,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    state = {}
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + n].decode()
        pos += 4 + n
        (dims,) = struct.unpack_from("<I", data, pos)
        sizes = struct.unpack_from(f"<{dims}q", data, pos + 4)
        pos += 4 + 8 * dims
        numel = math.prod(sizes)
        t = torch.frombuffer(bytearray(data[pos:pos + 4 * numel]), dtype=torch.float32).reshape(sizes)
        pos += 4 * numel
        parts = name.split(".")
        if parts[0] == "encoder" and parts[1] in ("bottom_fwd", "bottom_bwd"):
            name = "encoder.bottom." + parts[2] + ("_reverse" if parts[1] == "bottom_bwd" else "")
        elif parts[0] in ("encoder", "decoder") and parts[1].startswith("layer"):
            first = 2 if parts[0] == "encoder" else 1
            name = f"{parts[0]}.layers.{int(parts[1][5:]) - first}." + ".".join(parts[2:])
        state[name] = t
    if model.tgt_embedding is model.src_embedding:
        state["tgt_embedding.weight"] = state["src_embedding.weight"]
    model.load_state_dict(state, strict=True)


def make_batch(pairs):
    """[(src ids, tgt ids)] -> src (S, B), lengths (B), tgt_in (T, B), tgt_out (T, B), target tokens."""
    B = len(pairs)
    S = max(len(s) for s, _ in pairs)
    T = max(len(t) for _, t in pairs) + 1
    src = torch.zeros(S, B, dtype=torch.long)
    tgt_in = torch.zeros(T, B, dtype=torch.long)
    tgt_out = torch.zeros(T, B, dtype=torch.long)
    for j, (s, t) in enumerate(pairs):
        src[:len(s), j] = torch.tensor(s)
        tgt_in[0, j] = BOS
        tgt_in[1:len(t) + 1, j] = torch.tensor(t)
        tgt_out[:len(t), j] = torch.tensor(t)
        tgt_out[len(t), j] = EOS
    lengths = torch.tensor([len(s) for s, _ in pairs])
    return src, lengths, tgt_in, tgt_out, sum(len(t) + 1 for _, t in pairs)


def read_batches(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = read_header(lines)
    batches, i = [], len(header)
    while i < len(lines) and lines[i]:
        n = int(lines[i].split()[1])
        pairs = []
        for line in lines[i + 1:i + 1 + n]:
            s, t = line.split("\t")
            pairs.append(([int(x) for x in s.split()], [int(x) for x in t.split()]))
        batches.append(pairs)
        i += n + 1
    return header, batches


def result(key, value):
    print(f"result {key} {value}", flush=True)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(args):
    header, batches = read_batches(args.batches)
    o, T = header["model"], header["training"]
    torch.manual_seed(T["seed"])
    device = torch.device(args.device)
    model = GNMT(o).to(device)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=T["lr"], betas=(T["adam_beta1"], T["adam_beta2"]), eps=1e-9)
    # As NVIDIA's PyTorch GNMT trains: autocast (AMP), fp16 with a GradScaler; the lengths stay on the CPU
    # for pack_padded_sequence.
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    scaler = torch.amp.GradScaler(device.type, enabled=args.precision == "fp16")
    batches = [tuple(x.to(device) if torch.is_tensor(x) and i != 1 else x for i, x in enumerate(make_batch(b)))
               for b in batches]
    if len(batches) <= args.warmup:
        sys.exit(f"{args.batches}: {len(batches)} batches, but --warmup {args.warmup} leaves none to time")

    def step(src, lengths, tgt_in, tgt_out, ntok):
        optimizer.zero_grad()
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(src, lengths, tgt_in)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), tgt_out.view(-1), ignore_index=PAD,
                                   label_smoothing=T["label_smoothing"], reduction="sum")
        scaler.scale(loss / ntok).backward()
        value = loss.item()
        scaler.unscale_(optimizer)
        if T["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), T["clip_norm"])
        scaler.step(optimizer)
        scaler.update()
        return value

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for b in batches[:args.warmup]:
        step(*b)
    tokens, loss = 0, 0.0
    sync()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for b in batches[args.warmup:]:
        loss += step(*b)
        tokens += b[4]
    sync()
    dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"reference: {params} parameters; {len(batches) - args.warmup} timed batches ({args.warmup} warm-up), "
          f"{tokens} target tokens in {dt:.3f} s, loss/token {loss / tokens:.4f}")
    result("parameters", params)
    result("train_tok_s", tokens / dt)
    result("train_tok_cpu_s", tokens / cpu)
    result("step_s", dt / (len(batches) - args.warmup))
    if device.type == "cuda":
        result("peak_gpu_mib", torch.cuda.max_memory_allocated(device) / 2**20)


@torch.no_grad()
def greedy(model, src, lengths, ratio):
    keys, values, mask = model.encode(src, lengths)
    B = src.size(1)
    limits = [math.floor(ratio * n) + 10 for n in lengths.tolist()]
    out, done = [[] for _ in range(B)], [False] * B
    prev, state = torch.full((B,), BOS, dtype=torch.long), None
    for t in range(max(limits)):
        hidden, state, _ = model.decoder(model.tgt_embedding(prev).unsqueeze(0), keys, values, mask, state)
        prev = torch.log_softmax(model.project(hidden[0]), -1).argmax(-1)
        for b, tok in enumerate(prev.tolist()):
            if done[b]:
                continue
            if tok != EOS:
                out[b].append(tok)
            done[b] = tok == EOS or t + 1 >= limits[b]
        if all(done):
            break
    return out


@torch.no_grad()
def beam_search(model, src, lengths, K, alpha, beta, ratio):
    """Simple batched beam search with GNMT's length and coverage penalties; finished sentences stay in the
    batch (their beams are dead) until all are done."""
    keys, values, mask = model.encode(src, lengths)
    B = src.size(1)
    rep = torch.arange(B).repeat_interleave(K)
    keys, values, mask = keys[rep], values[rep], mask[rep]
    limits = [math.floor(ratio * n) + 10 for n in lengths.tolist()]
    scores = torch.full((B, K), float("-inf"))
    scores[:, 0] = 0
    prev, state = torch.full((B * K,), BOS, dtype=torch.long), None
    history = torch.zeros(B * K, 0, dtype=torch.long)
    coverage = torch.zeros(B * K, keys.size(1))
    finished = [[] for _ in range(B)]
    done = [False] * B
    lp = lambda n: ((5.0 + n) / 6.0) ** alpha if alpha > 0 else 1.0
    for t in range(max(limits)):
        hidden, state, weights = model.decoder(model.tgt_embedding(prev).unsqueeze(0), keys, values, mask, state)
        coverage = coverage + weights[:, 0]
        logp = torch.log_softmax(model.project(hidden[0]), -1)
        V = logp.size(1)
        cand = (scores.view(-1, 1) + logp).view(B, K * V)
        top_s, top_i = cand.topk(2 * K, dim=1)
        parent = torch.arange(B).unsqueeze(1) * K + top_i // V
        tok = top_i % V
        cp = beta * coverage.clamp(1e-10, 1.0).log().masked_fill(~mask, 0.0).sum(1) if beta > 0 else None
        at_limit = torch.tensor([t + 1 >= n for n in limits]).unsqueeze(1)
        ends = (tok == EOS) | at_limit
        rank = torch.arange(2 * K).unsqueeze(0)
        for b, r in ((tok == EOS) & (rank < K) | at_limit).nonzero().tolist():
            s = top_s[b, r].item()
            if done[b] or s == float("-inf"):
                continue
            row = parent[b, r].item()
            words = history[row].tolist() + ([] if tok[b, r].item() == EOS else [tok[b, r].item()])
            finished[b].append((s / lp(t + 1) + (cp[row].item() if cp is not None else 0.0), words))
        live_s, order = top_s.masked_fill(ends, float("-inf")).topk(K, dim=1)
        for b in range(B):
            if done[b]:
                continue
            best_live = live_s[b, 0].item()
            done[b] = bool(t + 1 >= limits[b] or best_live == float("-inf") or len(finished[b]) >= K or
                           (finished[b] and max(f[0] for f in finished[b]) >= best_live / lp(limits[b])))
        if all(done):
            break
        live_s[torch.tensor(done)] = float("-inf")
        rows = parent.gather(1, order).view(-1)
        prev = tok.gather(1, order).view(-1)
        scores = live_s
        history = torch.cat([history[rows], prev.unsqueeze(1)], 1)
        coverage = coverage[rows]
        state = [(h[:, rows], c[:, rows]) for h, c in state]
    return [max(f, key=lambda x: x[0])[1] if f else [] for f in finished]


def translate(args):
    with open(args.ids, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = read_header(lines)
    sources = [[int(x) for x in line.split()] for line in lines[len(header):]]
    if sources and not lines[-1]:
        sources.pop()
    o, d = header["model"], header["decoding"]
    model = GNMT(o)
    load_gnmt_weights(model, args.ids + ".weights")
    model.eval()
    beam = args.beam or d["beam"]
    order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: -len(sources[i]))
    out = [[] for _ in sources]
    t0, cpu0 = time.perf_counter(), time.process_time()
    for start in range(0, len(order), d["batch_size"]):
        idx = order[start:start + d["batch_size"]]
        src, lengths, _, _, _ = make_batch([(sources[i], [0]) for i in idx])
        hyps = (greedy(model, src, lengths, d["max_len_ratio"]) if beam == 1 else
                beam_search(model, src, lengths, beam, d["alpha"], d["beta"], d["max_len_ratio"]))
        for i, h in zip(idx, hyps):
            out[i] = h
    dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"reference: translated {len(sources)} sentences with beam {beam} (batch {d['batch_size']}) in {dt:.3f} s")
    result("sentences_s", len(sources) / dt)
    result("sentences_cpu_s", len(sources) / cpu)
    result("output_tokens", sum(len(h) for h in out))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.writelines(" ".join(map(str, h)) + "\n" for h in out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="time training on a batches file")
    t.add_argument("--batches", required=True)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    t.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"),
                   help="autocast dtype (training.precision is not in the batches file)")
    r = sub.add_parser("translate", help="time translating an ids file")
    r.add_argument("--ids", required=True)
    r.add_argument("--beam", type=int, default=0, help="beam size (1 = greedy; default: the checkpoint's)")
    r.add_argument("--output", help="write the output ids here")
    for s in (t, r):
        s.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    train(args) if args.command == "train" else translate(args)
    result("peak_rss_mib", peak_rss_mib())


if __name__ == "__main__":
    main()
