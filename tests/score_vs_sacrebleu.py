#!/usr/bin/env python3
"""Compare `gnmt score` with sacreBLEU 2.6.0 on generated corpora.

    /opt/gnmt-deps/test-venv/bin/python tests/score_vs_sacrebleu.py build/gnmt [--quick] [--seed N]

For each generated case (fixed seed: empty lines, empty hypotheses, no matches, short and long
hypotheses, 1-3 references as files or tab-separated, every tokenizer and smoothing method,
lowercase, chrF/chrF++ variants, Unicode punctuation, digits and symbols, CJK, Greek final sigma,
odd whitespace, sentence level, several systems with and without --paired-bs) it runs `gnmt score` and
sacreBLEU's CLI with the same arguments and requires identical stdout (text and JSON), and checks every printed figure against the
sacreBLEU Python API (score to 4 decimals, precisions, BP, ratio, lengths). Error handling (line
count mismatch, invalid UTF-8) is checked too. The last line is "N passed, M failed"; the exit
status is non-zero on any failure.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

assert sacrebleu.__version__ == "2.6.0", f"sacrebleu 2.6.0 required, found {sacrebleu.__version__}"

PASSED = 0
FAILED = 0
FAILURES = []


def check(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
    else:
        FAILED += 1
        FAILURES.append(what)
        print(f"FAIL: {what}\n{detail}", file=sys.stderr)


ENV = {k: v for k, v in os.environ.items() if k != "SACREBLEU_FORMAT"}
ENV["NO_COLOR"] = "1"
ENV["PYTHONIOENCODING"] = "utf-8"


def run(cmd, stdin_bytes=None, env=None):
    p = subprocess.run(cmd, input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def sacrebleu_cli(args, stdin_bytes=None, env=None):
    return run([sys.executable, "-m", "sacrebleu", *args], stdin_bytes, env)


# sacreBLEU's CLI with json.dumps accepting NumPy float32 (its paired-bs JSON output crashes on the
# float32 chrF mean/CI otherwise; gnmt prints them as numbers).
JSON_F32_PATCH = ("import json; _d = json.dumps; "
                  "json.dumps = lambda o, **kw: _d(o, default=float, **kw); "
                  "from sacrebleu.sacrebleu import main; main()")


def sacrebleu_cli_f32json(args, env=None):
    return run([sys.executable, "-c", JSON_F32_PATCH, *args], None, env)


# ----------------------------------------------------------------------------------------------
# Text generation
EN = ("the cat sat on mat a dog ran quickly over lazy fox and it was not very good idea "
      "we they he she is are be to of in for with by from at as this that these those").split()
EN_PUNCT = ["Hello,", "world.", "U.S.A.", "e.g.,", "3.5", "1,000", "2-3", "1990s", "x-ray", "well-known",
            "(a)", "[b]", "{c}", "'quote'", "\"q\"", "it's", "don't", "$5.00", "50%", "a/b", "&amp;",
            "&quot;hi&quot;", "&lt;tag&gt;", "&amp;lt;", "<skipped>", "end.", "wait...", "?!", "-", "--",
            "3.", ".5", ",", ".", "#1", "@user", "a+b=c", "~x", "^", "_u_", "`tick`", "|", "\\", "x;y:z",
            "A.", "Mr.", "9-", "-9", "5,5", "5.5.5", "co-op", "12:30", "R&D", "C++", "<b>"]
UNI = ["café", "naïve", "Ölçek", "İstanbul", "STRASSE", "straße", "ΟΔΟΣ", "Σ", "ΣΑΣ.", "ΑΣ'Β", "σοφία",
       "Москва", "ПРИВЕТ", "“quoted”", "‘single’", "«guillemets»", "„low“", "—", "–", "…", "¿qué?",
       "¡hola!", "e\u0301", "Å", "ǅ", "ﬁ", "Ⅻ", "½", "①", "٣", "४", "๓", "𝟙", "١٢٣", "€5", "£", "¥100", "©",
       "®", "™", "°C", "±1", "2×3", "÷", "→", "★", "☺", "😀", "👍🏽", "∑", "√2", "∞", "§3", "¶", "·", "•",
       "‰", "′", "″", "№", "ℓ", "µ", "Ω", "Å", "ẞ", "ﬀ", "ŉ", "ǰ", "ΐ"]
CJK = ["中文", "日本語", "한국어", "漢字", "東京", "北京", "你好", "世界", "。", "、", "「引用」", "（括弧）",
       "！", "？", "，", "；", "：", "・", "ー", "カタカナ", "ひらがな", "１２３", "ＡＢＣ", "〜", "【注】", "《书》"]
ODD_SPACES = [" ", " ", " ", "  ", "\u00a0", "\u2009", "\u3000", "\u200b", "\x0b", "\x0c", "\x1c", "\x1f",
              "\x85", "\u2028", "\r", "\t"]


def sentence(rng, pools, n):
    words = []
    for _ in range(n):
        pool = rng.choice(pools)
        words.append(rng.choice(pool))
    out = ""
    for i, w in enumerate(words):
        if i:
            out += rng.choice(ODD_SPACES) if rng.random() < 0.08 else " "
        out += w
    if rng.random() < 0.1:
        out += rng.choice([" ", "  ", "\u00a0", "\t "])  # trailing whitespace
    if rng.random() < 0.05:
        out = rng.choice([" ", "\u3000"]) + out        # leading whitespace
    return out


def mutate(rng, ref, pools):
    words = ref.split(" ")
    r = rng.random()
    if r < 0.07:
        return ""
    if r < 0.12:
        return sentence(rng, pools, rng.randint(1, 8))           # (almost surely) no matches
    if r < 0.17:
        return ref                                                # identical
    if r < 0.25:
        return " ".join(words[: max(0, len(words) // 3)])         # much shorter
    if r < 0.32:
        return ref + " " + sentence(rng, pools, rng.randint(3, 12))  # longer
    out = []
    for w in words:
        x = rng.random()
        if x < 0.1:
            continue
        if x < 0.2:
            out.append(rng.choice(rng.choice(pools)))
        elif x < 0.25:
            out.append(w.upper() if rng.random() < 0.5 else w.lower())
        else:
            out.append(w)
        if rng.random() < 0.05:
            out.append(rng.choice(rng.choice(pools)))
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def corpus(rng, n_lines, n_refs, pools):
    streams = [[] for _ in range(n_refs)]
    hyps = []
    for _ in range(n_lines):
        base = "" if rng.random() < 0.04 else sentence(rng, pools, rng.randint(1, 30))
        for k in range(n_refs):
            if k == 0 or rng.random() < 0.3:
                r = base
            else:
                r = mutate(rng, base, pools)
            if rng.random() < 0.03:
                r = ""
            streams[k].append(r)
        hyps.append(mutate(rng, base, pools))
    return hyps, streams


def write_lines(path, lines, crlf=False, final_newline=True):
    nl = "\r\n" if crlf else "\n"
    if lines and lines[-1] == "":
        final_newline = True  # otherwise the empty last line would not exist
    data = nl.join(lines) + (nl if final_newline and lines else "")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(data)


# ----------------------------------------------------------------------------------------------
# Expected values from the Python API. The CLI reads lines with rstrip(); do the same here.
def api_metric(metric, args, sentence_level):
    if metric == "bleu":
        kw = dict(lowercase=args.get("lc", False), tokenize=args.get("tok", "13a"),
                  smooth_method=args.get("s", "exp"), smooth_value=args.get("sv"),
                  effective_order=sentence_level)
        if "order" in args:
            kw["max_ngram_order"] = args["order"]
        return BLEU(**kw)
    return CHRF(char_order=args.get("cc", 6), word_order=args.get("cw", 0), beta=args.get("beta", 2),
                lowercase=args.get("clc", False), whitespace=args.get("ws", False),
                eps_smoothing=args.get("eps", False))


def cli_args(metrics, args):
    a = ["-m", *metrics]
    if "tok" in args:
        a += ["-tok", args["tok"]]
    if args.get("lc"):
        a += ["-lc"]
    if "s" in args:
        a += ["-s", args["s"]]
    if args.get("sv") is not None:
        a += ["-sv", str(args["sv"])]
    if "cc" in args:
        a += ["-cc", str(args["cc"])]
    if "cw" in args:
        a += ["-cw", str(args["cw"])]
    if "beta" in args:
        a += ["--chrf-beta", str(args["beta"])]
    if args.get("ws"):
        a += ["--chrf-whitespace"]
    if args.get("clc"):
        a += ["--chrf-lowercase"]
    if args.get("eps"):
        a += ["--chrf-eps-smoothing"]
    return a


LINE_RE = re.compile(r"^\s*(\S+?)\|(\S+) = (\S+)(?: (.*))?$")


def compare_api(tag, out_text, metrics, args, hyps, streams, sentence_level, width):
    """Checks each figure printed by gnmt (text format) against the sacreBLEU API."""
    hyps = [h.rstrip() for h in hyps]
    streams = [[r.rstrip() for r in s] for s in streams]
    lines = out_text.rstrip("\n").split("\n")
    expected = []
    if sentence_level:
        m = api_metric(metrics[0], args, True)
        for i, h in enumerate(hyps):
            expected.append(m.sentence_score(h, [s[i] for s in streams]))
    else:
        for name in sorted(x.upper() for x in set(metrics)):
            m = api_metric(name.lower(), args, False)
            expected.append(m.corpus_score(hyps, streams))
    if len(lines) != len(expected):
        check(False, f"{tag}: line count", f"gnmt:\n{out_text}\nexpected {len(expected)} lines")
        return
    for i, (line, sc) in enumerate(zip(lines, expected)):
        mo = LINE_RE.match(line)
        if not mo:
            check(False, f"{tag}: unparsable line {i}", line)
            continue
        name, _sig, score, verbose = mo.groups()
        check(name == sc.name, f"{tag}[{i}] name", f"{name} vs {sc.name}")
        check(score == f"{sc.score:.{width}f}", f"{tag}[{i}] score", f"gnmt {score} vs sacrebleu {sc.score:.{width}f}")
        if isinstance(sc, sacrebleu.metrics.bleu.BLEUScore):
            m2 = re.match(r"^(\S+) \(BP = (\S+) ratio = (\S+) hyp_len = (\d+) ref_len = (\d+)\)$", verbose or "")
            if not m2:
                check(False, f"{tag}[{i}] verbose", verbose)
                continue
            precs, bp, ratio, hl, rl = m2.groups()
            check(precs == "/".join(f"{p:.1f}" for p in sc.precisions), f"{tag}[{i}] precisions",
                  f"{precs} vs {sc.precisions}")
            check(bp == f"{sc.bp:.3f}", f"{tag}[{i}] bp", f"{bp} vs {sc.bp}")
            check(ratio == f"{sc.ratio:.3f}", f"{tag}[{i}] ratio", f"{ratio} vs {sc.ratio}")
            check(int(hl) == sc.sys_len and int(rl) == sc.ref_len, f"{tag}[{i}] lengths",
                  f"{hl}/{rl} vs {sc.sys_len}/{sc.ref_len}")


class Case:
    def __init__(self, tmp, idx, hyps, streams, metrics, args, tab_refs=False, sentence_level=False,
                 use_stdin=False, crlf=False, final_newline=True):
        if tab_refs:  # a tab inside a reference would be a field separator, and sacreBLEU
            # rstrip()s the whole line, so empty/space-ending last fields would vanish
            streams = [[r.replace("\t", " ").rstrip() or "x" for r in st] for st in streams]
        self.tag = f"case{idx} m={metrics} {args} nrefs={len(streams)} tab={tab_refs} sl={sentence_level}"
        self.hyps, self.streams, self.metrics, self.args = hyps, streams, metrics, args
        self.sentence_level, self.use_stdin = sentence_level, use_stdin
        self.hyp_path = os.path.join(tmp, f"c{idx}.hyp")
        write_lines(self.hyp_path, hyps, crlf, final_newline)
        self.ref_paths = []
        if tab_refs:
            p = os.path.join(tmp, f"c{idx}.tsv")
            write_lines(p, ["\t".join(x) for x in zip(*streams)], crlf, final_newline)
            self.ref_paths = [p]
            self.nr = ["-nr", str(len(streams))]
        else:
            for k, s in enumerate(streams):
                p = os.path.join(tmp, f"c{idx}.ref{k}")
                write_lines(p, s, crlf, final_newline)
                self.ref_paths.append(p)
            self.nr = []

    def argv(self, extra):
        a = [*self.ref_paths]
        if not self.use_stdin:
            a += ["-i", self.hyp_path]
        a += self.nr + cli_args(self.metrics, self.args) + extra
        if self.sentence_level:
            a += ["-sl"]
        return a

    def stdin(self):
        if not self.use_stdin:
            return None
        with open(self.hyp_path, "rb") as f:
            return f.read()


def run_case(gnmt, case, formats, widths, api=True, sacrebleu_cli_ok=True):
    for fmt in formats:
        for w in widths:
            extra = ["-f", fmt, "-w", str(w)]
            argv = case.argv(extra)
            rc_g, out_g, err_g = run([gnmt, "score", *argv], case.stdin())
            check(rc_g == 0, f"{case.tag} {extra}: gnmt exit {rc_g}", err_g)
            if sacrebleu_cli_ok:
                rc_s, out_s, err_s = sacrebleu_cli(argv, case.stdin())
                if rc_s != 0:
                    check(False, f"{case.tag} {extra}: sacrebleu exit {rc_s}", err_s)
                    continue
                check(out_g == out_s, f"{case.tag} {extra}: stdout differs",
                      f"--- sacrebleu\n{out_s}--- gnmt\n{out_g}")
            if api and fmt == "text" and rc_g == 0:
                compare_api(f"{case.tag} {extra}", out_g, case.metrics, case.args, case.hyps, case.streams,
                            case.sentence_level, w)


def run_paired_cases(gnmt, tmp, rng, quick, pools_choices):
    seeds = [None, "7", "1099511627776", "4294967296"]
    n_cases = 10 if quick else 28
    for i in range(n_cases):
        n_lines = rng.choice([1, 2, 3, 40, 80, 150]) if i % 3 == 0 else rng.randint(20, 120)
        nrefs = rng.randint(1, 2)
        pools = rng.choice(pools_choices)
        base_hyps, streams = corpus(rng, n_lines, nrefs, pools)
        n_sys = rng.randint(2, 4)
        systems = [base_hyps] + [[mutate(rng, h, pools) for h in base_hyps] for _ in range(n_sys - 1)]
        if i == 2:
            systems[1] = list(systems[0])  # identical to the baseline
        paths = []
        for k, hs in enumerate(systems):
            p = os.path.join(tmp, f"pbs{i}_sys{k}.txt")
            write_lines(p, hs)
            paths.append(p)
        ref_paths = []
        for k, st in enumerate(streams):
            p = os.path.join(tmp, f"pbs{i}.ref{k}")
            write_lines(p, st)
            ref_paths.append(p)
        metrics = rng.choice([["bleu"], ["chrf"], ["bleu", "chrf"], ["chrf", "bleu"]])
        args = {"tok": rng.choice(["13a", "intl", "char", "none"]), "s": rng.choice(["exp", "floor", "add-k", "none"]),
                "lc": rng.random() < 0.3, "cw": rng.choice([0, 0, 2]), "clc": rng.random() < 0.2,
                "eps": rng.random() < 0.15, "beta": rng.choice([2, 2, 1, 3])}
        if args["s"] in ("floor", "add-k") and rng.random() < 0.5:
            args["sv"] = rng.choice([0.01, 0.5, 2.0, 3])
        n = rng.choice([100, 150, 200])
        width = rng.choice([1, 2, 4])
        env = dict(ENV)
        seed = seeds[i % len(seeds)]
        if seed is not None:
            env["SACREBLEU_SEED"] = seed
        paired = i % 5 != 4  # every fifth case: the plain multi-system table
        extra = ["--paired-bs", "--paired-bs-n", str(n)] if paired else []
        if rng.random() < 0.2:
            extra += ["-sh"]
        if rng.random() < 0.2 and paired:
            paths = paths + [paths[0]]  # the baseline again: ignored
        for fmt in ("text", "json"):
            argv = [*ref_paths, "-i", *paths, *cli_args(metrics, args), *extra, "-f", fmt, "-w", str(width)]
            tag = f"paired{i} L={n_lines} sys={n_sys} m={metrics} {args} {extra} seed={seed} {fmt} w={width}"
            rc_g, out_g, err_g = run([gnmt, "score", *argv], None, env)
            check(rc_g == 0, f"{tag}: gnmt exit {rc_g}", err_g)
            if fmt == "json" and paired and "chrf" in metrics:
                rc_s, out_s, err_s = sacrebleu_cli_f32json(argv, env)
            else:
                rc_s, out_s, err_s = sacrebleu_cli(argv, None, env)
            if rc_s != 0:
                check(False, f"{tag}: sacrebleu exit {rc_s}", err_s[-2000:])
                continue
            check(out_g == out_s, f"{tag}: stdout differs", f"--- sacrebleu\n{out_s}--- gnmt\n{out_g}")
    # Errors: a single system with --paired-bs; sentence level.
    p_r, p_h = os.path.join(tmp, "pbs_err.ref"), os.path.join(tmp, "pbs_err.hyp")
    write_lines(p_r, ["a b c", "d e f"])
    write_lines(p_h, ["a b c", "d e"])
    rc, out, err = run([gnmt, "score", p_r, "-i", p_h, "--paired-bs"])
    check(rc == 1 and out == "" and "multiple input systems" in err, "paired-bs with one system: error", out + err)
    rc, out, err = run([gnmt, "score", p_r, "-i", p_h, p_r, "--paired-bs", "-sl"])
    check(rc == 1 and out == "", "paired-bs with -sl: error", out + err)


# ----------------------------------------------------------------------------------------------
def main():
    if len(sys.argv) < 2:
        sys.exit("usage: score_vs_sacrebleu.py PATH/TO/gnmt [--quick] [--seed N]")
    gnmt = sys.argv[1]
    quick = "--quick" in sys.argv
    seed = 12345
    if "--seed" in sys.argv:
        seed = int(sys.argv[sys.argv.index("--seed") + 1])
    rng = random.Random(seed)
    pools_choices = [[EN], [EN, EN_PUNCT], [EN, EN_PUNCT, UNI], [UNI, CJK], [CJK], [EN, EN_PUNCT, UNI, CJK]]

    with tempfile.TemporaryDirectory(prefix="gnmt_score_vs_sacrebleu_") as tmp:
        idx = 0
        # 1. Every tokenizer x smoothing x lowercase, corpus level, text + JSON.
        for tok in ["13a", "intl", "char", "none"]:
            for s in ["exp", "floor", "add-k", "none"]:
                for lc in [False, True]:
                    if quick and (lc or s in ("floor", "none")):
                        continue
                    idx += 1
                    nrefs = rng.randint(1, 3)
                    hyps, streams = corpus(rng, rng.randint(1, 40), nrefs, rng.choice(pools_choices))
                    args = {"tok": tok, "s": s, "lc": lc}
                    if s in ("floor", "add-k") and rng.random() < 0.5:
                        args["sv"] = rng.choice([0.01, 0.5, 2.0, 3])
                    metrics = ["bleu"] if rng.random() < 0.6 else ["chrf", "bleu"]
                    case = Case(tmp, idx, hyps, streams, metrics, args, tab_refs=nrefs > 1 and rng.random() < 0.4)
                    run_case(gnmt, case, ["text", "json"], [rng.choice([1, 2, 4])] if quick else [4, 1])
        # 2. chrF / chrF++ variants.
        for cc, cw, beta, ws, clc, eps in [(6, 0, 2, False, False, False), (6, 2, 2, False, False, False),
                                           (6, 1, 1, False, True, False), (3, 2, 3, True, False, False),
                                           (1, 0, 2, False, False, True), (6, 2, 2, True, True, True),
                                           (0, 2, 2, False, False, False), (8, 3, 0, False, False, False),
                                           (6, 0, 2, True, False, False), (2, 2, 5, False, True, True)]:
            idx += 1
            nrefs = rng.randint(1, 3)
            hyps, streams = corpus(rng, rng.randint(1, 40), nrefs, rng.choice(pools_choices))
            args = {"cc": cc, "cw": cw, "beta": beta, "ws": ws, "clc": clc, "eps": eps}
            case = Case(tmp, idx, hyps, streams, ["chrf"], args, tab_refs=nrefs > 1 and rng.random() < 0.4)
            run_case(gnmt, case, ["text", "json"], [4] if quick else [4, 2])
        # 3. Sentence level (BLEU with effective order, chrF).
        for i in range(4 if quick else 14):
            idx += 1
            nrefs = rng.randint(1, 3)
            hyps, streams = corpus(rng, rng.randint(1, 25), nrefs, rng.choice(pools_choices))
            if i % 2 == 0:
                args = {"tok": rng.choice(["13a", "intl", "char", "none"]),
                        "s": rng.choice(["exp", "floor", "add-k", "none"]), "lc": rng.random() < 0.3}
                metrics = ["bleu"]
            else:
                args = {"cw": rng.choice([0, 2]), "clc": rng.random() < 0.3}
                metrics = ["chrf"]
            case = Case(tmp, idx, hyps, streams, metrics, args, sentence_level=True,
                        tab_refs=nrefs > 1 and rng.random() < 0.4)
            run_case(gnmt, case, ["text"], [4])
            if i < 4:
                run_case(gnmt, case, ["json"], [1], api=False)  # -sl prints text even with -f json
        # 4. Randomised mixed cases (more lines, random options), incl. CRLF files, stdin, no final newline.
        for i in range(4 if quick else 20):
            idx += 1
            nrefs = rng.randint(1, 3)
            hyps, streams = corpus(rng, rng.randint(20, 120), nrefs, rng.choice(pools_choices))
            args = {"tok": rng.choice(["13a", "intl", "char", "none"]), "s": rng.choice(["exp", "floor", "add-k", "none"]),
                    "lc": rng.random() < 0.3, "cw": rng.choice([0, 2]), "clc": rng.random() < 0.3}
            case = Case(tmp, idx, hyps, streams, ["bleu", "chrf"], args, tab_refs=nrefs > 1 and rng.random() < 0.4,
                        use_stdin=i % 3 == 0, crlf=i % 4 == 1, final_newline=i % 5 != 2)
            if case.use_stdin:  # sacreBLEU reads stdin with universal newlines and splits systems on tabs
                case.hyps = [h.replace("\r", " ").replace("\t", " ") for h in case.hyps]
                write_lines(case.hyp_path, case.hyps, False, True)
            run_case(gnmt, case, ["text", "json"], [rng.choice([0, 1, 2, 4, 6])])
            run_case(gnmt, case, ["text"], [4], api=True, sacrebleu_cli_ok=False)
        # 5. Hand-picked edge cases.
        edge = [
            (["", "", ""], [["", "", ""]]),                                     # all empty
            (["a b c d e"], [[""]]),                                             # empty reference
            ([""], [["a b c d e"]]),                                             # empty hypothesis
            (["x y z"], [["a b c d e"]]),                                        # no matches
            (["the cat"], [["the cat sat on the mat"]]),                         # short hypothesis (BP)
            (["a b c d e f"], [["a b c d"], ["a b c d e f g h"]]),               # tie 4 vs 8 for 6 -> 4
            (["a b c d e"], [["a b c d e f"], ["a b c d"]]),                     # tie 6 vs 4 for 5 -> 4
            (["Hello, world! It costs $5.00 (or 3,000.50)."], [["Hello , world ! It costs $ 5.00 ( or 3,000.50 ) ."]]),
            (["ΟΔΟΣ ΣΑΣ. ΑΣ'Β İSTANBUL"], [["οδος σας. ας'β i̇stanbul"]]),
            (["中文文本，包含标点。１２３"], [["中文文本,包含标点.123"]]),
            (["a\u00a0b\u3000c\x1cd\x85e"], [["a b c d e"]]),
            (["&amp;lt; &quot;x&quot; <skipped> 9-9 a.b 1.a"], [["&lt; \"x\" 9 - 9 a.b 1.a"]]),
            (["word " * 60], [["word " * 55]]),
        ]
        for hyps, streams in edge:
            for args, metrics in [({"tok": "13a"}, ["bleu", "chrf"]), ({"tok": "intl", "lc": True, "clc": True}, ["bleu", "chrf"]),
                                  ({"tok": "char", "s": "floor"}, ["bleu"]), ({"tok": "none", "s": "add-k"}, ["bleu"]),
                                  ({"cw": 2, "ws": True}, ["chrf"]), ({"s": "none"}, ["bleu"])]:
                idx += 1
                case = Case(tmp, idx, hyps, streams, metrics, args)
                run_case(gnmt, case, ["text", "json"], [4])
                idx += 1
                case = Case(tmp, idx, hyps, streams, metrics[:1], args, sentence_level=True)
                run_case(gnmt, case, ["text"], [4])
        # 6. --max-ngram-order (gnmt extension; sacreBLEU has it in the API only) and --short.
        for order in [1, 2, 3, 5, 6]:
            idx += 1
            hyps, streams = corpus(rng, 30, 2, [EN, EN_PUNCT])
            case = Case(tmp, idx, hyps, streams, ["bleu"], {"order": order, "s": rng.choice(["exp", "floor"])})
            extra = ["--max-ngram-order", str(order)]
            rc, out, err = run([gnmt, "score", *case.argv(["-f", "text", "-w", "4"] + extra)])
            check(rc == 0, f"max-ngram-order {order}: exit", err)
            compare_api(f"max-ngram-order {order}", out, ["bleu"], case.args, hyps, streams, False, 4)
            api = api_metric("bleu", case.args, False)
            sc = api.corpus_score([h.rstrip() for h in hyps], [[r.rstrip() for r in s] for s in streams])
            check(out == sc.format(4, False, str(api.get_signature())) + "\n", f"max-ngram-order {order}: line",
                  out)
        idx += 1
        hyps, streams = corpus(rng, 10, 1, [EN, UNI])
        case = Case(tmp, idx, hyps, streams, ["bleu", "chrf"], {"s": "add-k", "cw": 2})
        run_case(gnmt, case, ["text"], [2], api=False)
        for extra in (["-sh"], ["-b"], ["-sh", "-b"], ["-sl", "-b"]):
            argv = case.argv(["-f", "text"] + extra)
            if "-sl" in extra:
                argv = [a for a in argv if a not in ("chrf",)]
            out_g = run([gnmt, "score", *argv])[1]
            out_s = sacrebleu_cli(argv)[1]
            check(out_g == out_s, f"options {extra}", f"--- sacrebleu\n{out_s}--- gnmt\n{out_g}")
            argv = [("json" if a == "text" else a) for a in argv]
            out_g = run([gnmt, "score", *argv])[1]
            out_s = sacrebleu_cli(argv)[1]
            check(out_g == out_s, f"options {extra} json", f"--- sacrebleu\n{out_s}--- gnmt\n{out_g}")

        # 8. Unicode sweep: every BMP code point and a sample of the others, in contexts that exercise
        # the intl tokenizer's \p{P}/\p{S}/\p{N} rules, whitespace splitting and str.lower()
        # (incl. Final_Sigma). The reference is Python's lowercase of the hypothesis, so with -lc
        # any lowercasing difference shows up as a lost match; hyp_len shows tokenization.
        cps = [cp for cp in range(0x20, 0x110000 if not quick else 0x3000)
               if not (0xD800 <= cp <= 0xDFFF) and chr(cp) not in "\n\r\t\x85\u2028\u2029"
               and (cp < 0x10000 or cp % 16 == 0) and not (0xE000 <= cp <= 0xF8FF and cp % 64)]
        hyp_lines, ref_lines = [], []
        for i in range(0, len(cps), 12):
            toks = []
            for cp in cps[i:i + 12]:
                c = chr(cp)
                toks += [c, f"a{c}b", f"1{c}2", f"{c}{c}", f"A{c}Σ", f"ΑΣ{c}Β", f"Σ{c}"]
            h = " ".join(toks)
            hyp_lines.append(h)
            ref_lines.append(h.lower())
        p_h, p_r = os.path.join(tmp, "sweep.hyp"), os.path.join(tmp, "sweep.ref")
        write_lines(p_h, hyp_lines)
        write_lines(p_r, ref_lines)
        for extra in (["-m", "bleu", "-tok", "intl", "-lc"], ["-m", "bleu", "-tok", "13a"],
                      ["-m", "bleu", "-tok", "char", "-lc"], ["-m", "chrf", "--chrf-lowercase", "-cw", "2"]):
            argv = [p_r, "-i", p_h, "-sl", "-f", "text", "-w", "4", *extra]
            rc_g, out_g, err_g = run([gnmt, "score", *argv])
            rc_s, out_s, err_s = sacrebleu_cli(argv)
            check(rc_g == 0 and rc_s == 0, f"unicode sweep {extra}: exit", err_g + err_s)
            lg, ls = out_g.splitlines(), out_s.splitlines()
            bad = [i for i in range(min(len(lg), len(ls))) if lg[i] != ls[i]]
            check(len(lg) == len(ls) and not bad, f"unicode sweep {extra}: {len(bad)} of {len(ls)} lines differ",
                  "\n".join(f"{hyp_lines[i]!r}\n  sacrebleu {ls[i]}\n  gnmt      {lg[i]}" for i in bad[:5]))

        # 9. Several systems: sacreBLEU's multi-system table and the paired bootstrap test
        # (--paired-bs; NumPy's PCG64 resampling reproduced, float32 statistics as NumPy has them).
        run_paired_cases(gnmt, tmp, rng, quick, pools_choices)

        # 7. Errors.
        p_h, p_r = os.path.join(tmp, "err.hyp"), os.path.join(tmp, "err.ref")
        write_lines(p_h, ["a", "b", "c"])
        write_lines(p_r, ["a", "b"])
        rc, out, err = run([gnmt, "score", p_r, "-i", p_h])
        check(rc != 0 and out == "", "length mismatch: non-zero exit, no output", f"rc={rc} out={out!r}")
        check(len(err.strip().splitlines()) == 1 and p_h in err and p_r in err and "3" in err and "2" in err,
              "length mismatch: one error line naming files and counts", err)
        with open(p_h, "wb") as f:
            f.write(b"ok\n\xc3\x28 bad\nok\n")
        write_lines(p_r, ["a", "b", "c"])
        rc, out, err = run([gnmt, "score", p_r, "-i", p_h])
        check(rc != 0 and f"{p_h}:2: invalid UTF-8" in err, "invalid UTF-8: FILE:LINE error", err)
        with open(p_h, "wb") as f:
            f.write(b"\xef\xbb\xbfa b c d\r\ne f g h\r\n")
        write_lines(p_r, ["a b c d", "e f g h"])
        rc, out, err = run([gnmt, "score", p_r, "-i", p_h, "-b"])
        check(rc == 0 and out == "100.0\n", "BOM and CRLF are dropped", out + err)

    print(f"{PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
