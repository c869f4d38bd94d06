#!/usr/bin/env python3
"""Build the embedded English-Spanish Bible corpus from the Debian SWORD modules.

Dumps the World English Bible (SWORD module engWEB2015eb, package sword-text-web) and the
Reina-Valera 1909 (spaRV1909eb, package sword-text-sparv) with `mod2imp`, cleans every verse to
the plain text a reader would see, aligns the two translations by (book, chapter, verse) and
writes OUTDIR/{train,valid,test}.{en,es}: one verse per line, UTF-8, aligned line by line, in
canonical book order. The split is by whole books and fixed (see SPLITS below); the RESERVED
books are written to no file at all.

Python 3 standard library only. Normally run through scripts/prepare_bible.sh.

    extract_bible.py OUTDIR                      # run mod2imp itself
    extract_bible.py OUTDIR --en-dump F --es-dump F   # use saved `mod2imp` dumps (debugging)
"""

import argparse
import html
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, OrderedDict

# SWORD module names as installed by the Debian packages (see /usr/share/sword/mods.d/*.conf).
# Note: the WEB module is the edition *with* Deuterocanon (NRSVA versification); the RV1909
# module uses KJV versification. The deuterocanonical books therefore exist only in English.
MODULES = OrderedDict([("en", "engWEB2015eb"), ("es", "spaRV1909eb")])

# Book names exactly as mod2imp prints them in its `$$$Book C:V` headers.
SPLITS = OrderedDict([
    ("test", ["Ruth", "Esther", "Jonah", "Philippians", "James", "I Peter", "Lamentations",
              "Galatians"]),
    ("valid", ["Joel", "Habakkuk", "Titus", "Colossians", "II Peter", "Obadiah", "Haggai",
               "Malachi", "Philemon"]),
    # Held out for later evaluation: written to no file at all.
    ("reserved", ["Hebrews", "Micah", "Nahum", "I John", "Zephaniah"]),
])
OUTPUT_SPLITS = ("train", "valid", "test")

# Elements dropped together with everything inside them (footnotes, cross references,
# headings, Song of Solomon speaker labels). A <title canonical="true"> (the Psalm
# superscriptions in the WEB) is scripture text and is kept: the RV1909 module has the same
# superscriptions as plain text at the start of verse 1, so dropping them would misalign.
DROP_ELEMENTS = {"note", "title", "speaker"}
# Tags that separate words (line/paragraph/list structure): replaced by a space. Every other
# tag (<w>, <q>, <transChange>, <seg>, <name>, <hi>, ThML <font>, ...) is inline: removed
# without a space, because the text around it already carries its own spacing (and e.g.
# RV's `preguntándo<transChange>le</transChange>` must stay one word).
BLOCK_TAGS = {"div", "p", "l", "lg", "lb", "br", "item", "list", "chapter", "milestone",
              "title", "table", "row", "cell", "head", "verse", "pb"}
# OSIS <div type=...> regions that are front/back matter, not verse text (the WEB glossary is
# appended to Revelation 22:21, the last entry of the module).
SKIP_DIV_TYPES = {"glossary", "introduction", "front", "back", "preface", "colophon",
                  "x-introduction"}

HEADER_RE = re.compile(r"^(.+) (\d+):(\d+)$")
TAG_RE = re.compile(r"<(/?)([A-Za-z][\w:.-]*)((?:\s[^>]*?)?)\s*(/?)>")
ATTR_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Placeholder for "a word boundary may be here": left where a dropped element was, at <q>
# boundaries and between two inline elements written without space. Resolved by _fill_holes().
HOLE = "\x00"
OPENERS = "([{“‘«¿¡"                 # no space after these
CLOSERS = ",.;:!?)]}’”»"             # no space before these
WORDISH_BEFORE = re.compile(r"[\w,.;:!?)\]}’”»]")
WORDISH_AFTER = re.compile(r"[\w(\[{“‘«¿¡]")


class ExtractError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# Dump and parse
# --------------------------------------------------------------------------------------------

def run_mod2imp(module):
    """Returns the raw `mod2imp MODULE` dump as text (raises ExtractError on any failure)."""
    exe = shutil.which("mod2imp")
    if exe is None:
        raise ExtractError("mod2imp not found on PATH (Debian package libsword-utils)")
    env = dict(os.environ)
    # Point SWORD at the system module library unless the caller chose one.
    env.setdefault("SWORD_PATH", "/usr/share/sword")
    try:
        proc = subprocess.run([exe, module], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, check=False)
    except OSError as e:
        raise ExtractError("cannot run mod2imp: %s" % e)
    if proc.returncode != 0 or not proc.stdout.startswith(b"$$$"):
        first = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        why = first[0] if first else "no output"
        raise ExtractError("mod2imp %s failed (exit %d): %s" % (module, proc.returncode, why))
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExtractError("mod2imp %s: output is not UTF-8 (%s)" % (module, e))


def parse_dump(text, module):
    """Parses a mod2imp dump into (OrderedDict {(book, ch, vs): raw}, [books in dump order]).

    Module/testament headings and chapter/book intros (chapter 0 or verse 0) are skipped.
    """
    verses = OrderedDict()
    books = []
    key, buf = None, []

    def flush():
        if key is not None:
            verses[key] = "".join(buf)

    for line in text.splitlines(keepends=True):
        if line.startswith("$$$"):
            flush()
            key, buf = None, []
            m = HEADER_RE.match(line[3:].rstrip("\r\n"))
            if m is None:
                continue  # "[ Module Heading ]", "[ Testament 1 Heading ]"
            book, ch, vs = m.group(1), int(m.group(2)), int(m.group(3))
            if not books or books[-1] != book:
                if book in books:
                    raise ExtractError("%s: book %r appears twice in the dump" % (module, book))
                books.append(book)
            if ch > 0 and vs > 0:
                key = (book, ch, vs)
        elif key is not None:
            buf.append(line)
    flush()
    if not verses:
        raise ExtractError("%s: no verses found in the mod2imp dump" % module)
    return verses, books


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------

def _attrs(s):
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in ATTR_RE.finditer(s)}


def strip_markup(raw, stats):
    """OSIS/ThML verse markup -> text with a HOLE where a dropped element was.

    Walks the tags in order so that dropped elements can nest other tags (a <note> holds
    <reference>, <rdg>, <catchWord>, <seg>, ...). Milestoned (self-closing sID/eID) forms
    of dropped elements and of front/back-matter divs are skipped up to their eID.
    """
    out = []
    pos = 0
    drop_depth = 0          # >0 while inside a dropped container element
    skip_until_eid = None   # sID of a milestoned region being skipped
    book_ended = False      # text after the closing <div type="book" eID> is not verse text
    for m in TAG_RE.finditer(raw):
        if drop_depth == 0 and skip_until_eid is None and not book_ended:
            out.append(raw[pos:m.start()])
        pos = m.end()
        closing, name, attr_s, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
        if drop_depth:
            # Inside a dropped element: count nesting of any container tag.
            if not selfclose:
                drop_depth += -1 if closing else 1
                if drop_depth == 0:
                    out.append(HOLE)
            continue
        attrs = _attrs(attr_s) if attr_s else {}
        if skip_until_eid is not None:
            if attrs.get("eID") == skip_until_eid:
                skip_until_eid = None
                out.append(" ")
            continue
        if book_ended:
            continue
        lname = name.lower()
        if lname == "div" and attrs.get("type") == "book" and "eID" in attrs:
            book_ended = True
            continue
        if lname == "div" and attrs.get("type") in SKIP_DIV_TYPES and "sID" in attrs:
            skip_until_eid = attrs["sID"]
            continue
        if lname in DROP_ELEMENTS and not (lname == "title" and attrs.get("canonical") == "true"):
            if selfclose:
                if "sID" in attrs:  # milestoned form <title sID=".."/> ... <title eID=".."/>
                    skip_until_eid = attrs["sID"]
                    out.append(HOLE)
                # an eID or empty element contributes nothing
                continue
            if not closing:
                drop_depth = 1
                continue
            # else: the end tag of a kept <title canonical="true"> (falls through as a block tag)
        stats["kept <%s>" % lname] += 1
        if lname == "q":
            # OSISqToTick=false in both .conf files: the quotation marks are in the text
            # already, so <q> only supplies punctuation through an explicit marker="..."
            # (present but always empty in these modules).
            # A <q> boundary is always a word or punctuation boundary, but the WEB sometimes
            # has no space there (`healed.”</q><w>Then</w>`), hence the HOLE.
            marker = attrs.get("marker")
            out.append(HOLE + marker + HOLE if marker else HOLE)
            continue
        if lname in BLOCK_TAGS:
            out.append(" ")
        # inline tags: nothing
    if drop_depth == 0 and skip_until_eid is None and not book_ended:
        out.append(raw[pos:])
    if drop_depth:
        stats["unterminated dropped element"] += 1
    return "".join(out)


def _fill_holes(s):
    """Turns each run of HOLEs (with any whitespace around them) into one space or nothing.

    The WEB often puts a footnote where the space between two words was
    (`God<note>..</note><w>created</w>`), but also right before punctuation
    (`cornerstone<note>..</note>.`). Rules: nothing at either end of the verse or before
    closing punctuation / after an opening quote or bracket; a space if the source had
    whitespace there or if the hole sits between two word-ish characters; else nothing
    (e.g. next to a dash).
    """
    def repl(m):
        before = s[m.start() - 1] if m.start() > 0 else ""
        after = s[m.end()] if m.end() < len(s) else ""
        if not before or not after or after in CLOSERS or before in OPENERS:
            return ""
        if any(c.isspace() for c in m.group(0)):
            return " "
        if WORDISH_BEFORE.match(before) and WORDISH_AFTER.match(after):
            return " "
        return ""
    return re.sub(r"[\s%s]*%s[\s%s]*" % (HOLE, HOLE, HOLE), repl, s)


# The RV1909 module often writes two inline elements back to back with no space between
# them although they are separate words (`<w>Salmo</w><w>de David</w>` does not occur, but
# `<transChange>Salmo</transChange><w>de David</w>`, `<w>Y FUÉ</w><transChange>que</transChange>`
# do, ~580 times). Sometimes, though, that is an enclitic pronoun added by the translators
# and it really is one word (`<w>díjo</w><transChange>le</transChange>` = "díjole"). A HOLE
# (word boundary) is put between such adjacent elements unless the second one is an
# enclitic pronoun glued to a verb-like word (infinitive/imperative/gerund, or a form
# written with an accent, which in this text marks the enclitic forms: "sáca-lo", "díce-les").
ADJACENT_INLINE_RE = re.compile(
    r"(?P<word>[^\W\d_]*)(?P<end></(?:w|transChange)>)"
    r"(?=<(?P<tag>w|transChange)\b[^>]*>(?P<next>[^<]*)<)")
ENCLITICS = {"lo", "la", "los", "las", "le", "les", "me", "te", "se", "nos", "os"}
ENCLITIC_HOSTS = {"di", "dí", "da", "haz", "vi", "ve", "ten", "pon", "sal", "ven"}
NOT_ENCLITIC_HOSTS = {"jehová", "josué", "cuánto", "cuándo", "cómo", "qué", "quién", "dónde",
                      "también", "después", "así", "aquí", "allí", "más", "aún", "además"}


def _is_enclitic(word, tag, nxt):
    if tag != "transChange" or nxt not in ENCLITICS or not word:
        return False
    w = word.lower()
    if w in NOT_ENCLITIC_HOSTS:
        return False
    return (w in ENCLITIC_HOSTS or w.endswith(("r", "d", "ndo"))
            or any(c in "áéíóú" for c in w))


def split_adjacent_inline(raw):
    def repl(m):
        if _is_enclitic(m.group("word"), m.group("tag"), m.group("next")):
            return m.group(0)
        return m.group("word") + m.group("end") + HOLE
    return ADJACENT_INLINE_RE.sub(repl, raw)


def clean(raw, stats):
    s = strip_markup(split_adjacent_inline(raw), stats)
    if "<" in s or ">" in s:
        stats["literal < or > after stripping"] += 1
    s = html.unescape(s)            # &amp; &lt; &#8212; ... (after tag stripping, on purpose)
    s = s.replace("¶", " ")         # pilcrow paragraph marks are layout, not text
    s = s.replace("\u00a0", " ").replace("\u200b", "")
    s = _fill_holes(s)
    s = re.sub(r"\s+", " ", s).strip()
    return s


# The RV1909 prints the first word(s) of every chapter in capitals (a drop-cap / small-caps
# convention: "EN el principio", "¿SACARÁS tú", "Y ACONTECIÓ", "YO DIJE: Atenderé"; in the
# Psalms after the superscription: "Salmo de David. JEHOVÁ es mi pastor"). In verse 1 of
# each chapter the first run of all-capital words is given normal case: capitalised at the
# start of a sentence or if the word is a proper noun (written capitalised more often than
# lowercase elsewhere in the text: Jehová, Dios, David), lowercase otherwise ("Y yo me
# paré", "A ti, oh Jehová"). Capitals elsewhere (inscriptions such as "SANTIDAD Á JEHOVÁ",
# "MENE, MENE, TEKEL") are real and left alone, as are the Psalm 119 acrostic letters.
_WORD_RE = re.compile(r"[^\W\d_]+")
HEBREW_LETTERS = {"ALEPH", "BETH", "GIMEL", "DALETH", "HE", "VAU", "ZAIN", "CHETH", "TETH",
                  "JOD", "CAPH", "LAMED", "MEM", "NUN", "SAMECH", "AIN", "PE", "TZADDI",
                  "COPH", "RESH", "SIN", "SCHIN", "TAU"}


# Luke starts its drop-cap after the prologue (1:1-4).
DROPCAP_EXTRA = {("Luke", 1, 5)}


def case_vocabulary(texts):
    """{lowercase word: (times written lowercase, times written Capitalised)}."""
    low, cap = Counter(), Counter()
    for t in texts:
        for w in _WORD_RE.findall(t):
            if w.islower():
                low[w] += 1
            elif w[0].isupper() and w[1:].islower():
                cap[w.lower()] += 1
    return {w: (low[w], cap[w]) for w in set(low) | set(cap)}


def fix_dropcap(s, vocab, psalm119=False):
    words = list(_WORD_RE.finditer(s))
    i = next((j for j, w in enumerate(words) if len(w.group(0)) >= 2 and w.group(0).isupper()),
             None)
    if i is None:
        return s
    if psalm119 and words[i].group(0) in HEBREW_LETTERS:
        i += 1  # "ALEPH. BIENAVENTURADOS los perfectos"
    # A one-letter capital word just before the run belongs to it ("Y YO", "A TI", "E HIRAM").
    if i > 0 and len(words[i - 1].group(0)) == 1 and words[i - 1].group(0).isupper() \
            and not s[words[i - 1].end():words[i].start()].strip():
        i -= 1
    j = i
    while j < len(words) and words[j].group(0).isupper():
        j += 1
    if j == i:
        return s
    out, pos = [], 0
    for k in range(i, j):
        w = words[k]
        t = w.group(0)
        gap = s[words[k - 1].end():w.start()] if k > 0 else ""
        sentence_start = k == 0 or re.search(r"[.:!?]", gap) is not None
        low, cap = vocab.get(t.lower(), (0, 0))
        if sentence_start or cap > low:
            t = t[0] + t[1:].lower()
        else:
            t = t.lower()
        out.append(s[pos:w.start()])
        out.append(t)
        pos = w.end()
    out.append(s[pos:])
    return "".join(out)


# Postscripts ("subscriptions") printed after the last verse of the Pauline epistles and
# Hebrews in the RV1909 ("Fué escrita de Corinto á los Romanos, ..."). They are not part of
# the verse and have no counterpart in the WEB, so they are cut after the final "Amén.".
COLOPHON_RE = re.compile(r"^(.*\bAmén\.)\s+(?=\S)([^.]*\b(?:[Ee]scrita|[Ee]nviada)\b[^.]*\.)$")


def strip_colophon(s):
    m = COLOPHON_RE.match(s)
    return (m.group(1), m.group(2)) if m else (s, None)


# --------------------------------------------------------------------------------------------
# Verse-boundary check
# --------------------------------------------------------------------------------------------
#
# Matching keys do not always mean matching text. The RV1909 module follows the Spanish
# (Hebrew-style) verse numbering in a number of places but was squeezed into KJV
# versification by its importer: a verse with no slot left is appended to the chapter's last
# verse, a slot with no verse stays empty, and in between the texts are shifted against each
# other (Numbers 13 and 30, I Samuel 24, I Kings 22, I Chronicles 21, Hosea 12, Jonah 2,
# Job 39-40, ...). Elsewhere the two translations just cut a verse at a different place.
#
# To find these stretches without a hand-made list, each book is aligned verse by verse with
# a small Gale-Church style dynamic programme (beads 1-1, 1-0, 0-1, 2-1, 1-2 within a band
# around the diagonal), scored by length ratio plus lexical overlap. The lexicon is learnt
# from the corpus itself (Dice association between English and Spanish words co-occurring
# in same-key verses; the few misaligned pairs do not disturb it). Only pairs the programme
# aligns 1-1 *with the same key* are kept; on top of that, same-key pairs with an extreme
# length ratio (one side carries a clause or verse the other lacks) are dropped.

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[’'][^\W\d_]+)?")
LEN_SD0, LEN_SD_SHORT = 0.005, 1.5   # variance of log length ratio ~ SD0 + SHORT/min(len)
LEN_COST_CAP = 12.0                  # one odd pair must not outweigh a whole shifted stretch
W_LEN, W_LEX = 0.5, 3.0              # weights of the length and lexical terms of a bead
OFF_DIAGONAL = 1.0                   # extra cost of a 1-1 bead pairing different keys
SKIP = 6.0                           # cost of leaving a non-empty verse unpaired
MERGE = 5.0                          # extra cost of a 2-1 / 1-2 bead
BAND = 6                             # max. offset (in verses) between the two sequences
MAX_LEN_Z = 4.5                      # same-key pairs beyond this length z-score are dropped


def _tokens(s):
    return {w.lower() for w in _TOKEN_RE.findall(s)}


class VerseAligner:
    def __init__(self, en, es, keys):
        """en/es: {key: text}; keys: the shared keys whose both sides are non-empty."""
        ten = {k: _tokens(en[k]) for k in keys}
        tes = {k: _tokens(es[k]) for k in keys}
        df_en = Counter(w for k in keys for w in ten[k])
        df_es = Counter(w for k in keys for w in tes[k])
        # Content-ish words only: not hapaxes, not in more than 8% of the verses.
        hi = 0.08 * len(keys)
        ok_en = {w for w, c in df_en.items() if 2 <= c <= hi}
        ok_es = {w for w, c in df_es.items() if 2 <= c <= hi}
        cooc = Counter()
        for k in keys:
            ses = [w for w in tes[k] if w in ok_es]
            for e in ten[k]:
                if e in ok_en:
                    for w in ses:
                        cooc[(e, w)] += 1
        cands = {}
        for (e, w), c in cooc.items():
            if c >= 2:
                cands.setdefault(e, []).append((2.0 * c / (df_en[e] + df_es[w]), w))
        # Each English word's (up to) 3 best Spanish partners with Dice >= 0.1, and reverse.
        self.en2es = {}
        self.es2en = {}
        for e, lst in cands.items():
            best = {w for d, w in sorted(lst, key=lambda x: (-x[0], x[1]))[:3] if d >= 0.1}
            if best:
                self.en2es[e] = best
                for w in best:
                    self.es2en.setdefault(w, set()).add(e)
        ratios = sorted(math.log(len(en[k]) / len(es[k])) for k in keys)
        self.len_mu = ratios[len(ratios) // 2]  # median log length ratio

    def len_z(self, la, lb):
        return (math.log(la / lb) - self.len_mu) / math.sqrt(LEN_SD0 + LEN_SD_SHORT / min(la, lb))

    def _lex_cost(self, e_set, s_set):
        """-log of the share of lexicon words (both sides) with a partner on the other side."""
        en2es, es2en = self.en2es, self.es2en
        h = sum(1 for e in e_set if not en2es[e].isdisjoint(s_set))
        h += sum(1 for w in s_set if not es2en[w].isdisjoint(e_set))
        return -math.log((h + 1.0) / (len(e_set) + len(s_set) + 2.0))

    def aligned_keys(self, keys, en, es):
        """keys: one book's shared keys in order. Returns those the DP pairs 1-1 with themselves."""
        n = len(keys)
        A = [len(en[k]) for k in keys]
        B = [len(es[k]) for k in keys]
        # Only lexicon words matter for the lexical term.
        TE = [frozenset(w for w in _tokens(en[k]) if w in self.en2es) for k in keys]
        TS = [frozenset(w for w in _tokens(es[k]) if w in self.es2en) for k in keys]

        def bead_cost(i0, i1, j0, j1):
            la = sum(A[i0:i1]) + (i1 - i0 - 1)
            lb = sum(B[j0:j1]) + (j1 - j0 - 1)
            if la <= 0 or lb <= 0:
                return None
            z = self.len_z(la, lb)
            e_set = TE[i0] if i1 - i0 == 1 else TE[i0] | TE[i0 + 1]
            s_set = TS[j0] if j1 - j0 == 1 else TS[j0] | TS[j0 + 1]
            return W_LEN * min(z * z / 2.0, LEN_COST_CAP) + W_LEX * self._lex_cost(e_set, s_set)

        INF = float("inf")
        cost = {(0, 0): 0.0}
        back = {}
        for i in range(n + 1):
            for j in range(max(0, i - BAND), min(n, i + BAND) + 1):
                if i == 0 and j == 0:
                    continue
                best, arg = INF, None
                for di, dj in ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2)):
                    pi, pj = i - di, j - dj
                    prev = cost.get((pi, pj))
                    if prev is None:
                        continue
                    if di == 0 or dj == 0:  # a verse left unpaired: free if it is empty
                        c = 0.0 if (A[pi] if di else B[pj]) == 0 else SKIP
                    else:
                        c = bead_cost(pi, i, pj, j)
                        if c is None:
                            if (di, dj) != (1, 1) or pi != pj:
                                continue
                            c = 1.0  # same-key pair with an empty side (dropped later anyway)
                        elif (di, dj) != (1, 1):
                            c += MERGE
                        elif pi != pj:
                            c += OFF_DIAGONAL
                    if prev + c < best:
                        best, arg = prev + c, (pi, pj, di, dj)
                if arg is not None:
                    cost[(i, j)] = best
                    back[(i, j)] = arg
        keep = set()
        i = j = n
        while (i, j) != (0, 0):
            pi, pj, di, dj = back[(i, j)]
            if (di, dj) == (1, 1) and pi == pj:
                keep.add(keys[pi])
            i, j = pi, pj
        return keep


def _ranges(keys_in_order, selected):
    """Compact 'Book C:V-C:V' ranges of the selected keys (runs consecutive in keys_in_order)."""
    runs, run = [], []
    for k in keys_in_order:
        if k in selected and (not run or run[-1][0] == k[0]):
            run.append(k)
            continue
        if run:
            runs.append(run)
        run = [k] if k in selected else []
    if run:
        runs.append(run)
    return ["%s %d:%d" % r[0] if len(r) == 1
            else "%s %d:%d-%d:%d" % (r[0][0], r[0][1], r[0][2], r[-1][1], r[-1][2]) for r in runs]


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def write_atomically(outdir, files):
    """files: {name: [lines]}. Writes every file to a temp name first, then renames all."""
    os.makedirs(outdir, exist_ok=True)
    tmps = {}
    try:
        for name, lines in files.items():
            fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=outdir)
            tmps[name] = tmp
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                for line in lines:
                    f.write(line)
                    f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
        # Remove the old set first: an interruption from here on leaves some files missing
        # (so prepare_bible.sh rebuilds), never a mix of old and new files.
        for name in tmps:
            if os.path.exists(os.path.join(outdir, name)):
                os.unlink(os.path.join(outdir, name))
        for name, tmp in tmps.items():
            os.replace(tmp, os.path.join(outdir, name))
    finally:
        for tmp in tmps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--en-dump", help="read this saved `mod2imp %s` output" % MODULES["en"])
    ap.add_argument("--es-dump", help="read this saved `mod2imp %s` output" % MODULES["es"])
    ap.add_argument("--verbose", action="store_true", help="print markup statistics")
    ap.add_argument("--pairs-tsv", metavar="FILE",
                    help="also write split<TAB>book<TAB>ch<TAB>vs<TAB>en<TAB>es for every written "
                         "pair (for auditing; reserved books are left out here too)")
    args = ap.parse_args(argv)

    cleaned, books_of = {}, {}
    stats = Counter()
    colophons = []
    for lang, module in MODULES.items():
        path = getattr(args, "%s_dump" % lang)
        if path:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        else:
            text = run_mod2imp(module)
        raw, books = parse_dump(text, module)
        out = OrderedDict((key, clean(r, stats)) for key, r in raw.items())
        if lang == "es":
            vocab = case_vocabulary(out.values())
            for key, s in out.items():
                if key[2] == 1 or key in DROPCAP_EXTRA:
                    s = fix_dropcap(s, vocab, psalm119=key[:2] == ("Psalms", 119))
                s, col = strip_colophon(s)
                if col:
                    colophons.append((key, col))
                out[key] = s
        cleaned[lang], books_of[lang] = out, books
        log("[bible] %s: %d verses, %d books" % (module, len(out), len(books)))

    en, es = cleaned["en"], cleaned["es"]
    # Every named book must be present in both dumps under exactly this name, otherwise a
    # renamed/re-versified module would silently move books into train.
    named = [b for books in SPLITS.values() for b in books]
    for lang, module in MODULES.items():
        missing = [b for b in named if b not in books_of[lang]]
        if missing:
            raise ExtractError("%s: split book(s) not found in the dump: %s (renamed or "
                               "re-versified module? see `mod2imp %s | grep '^[$][$][$]'`)"
                               % (module, ", ".join(missing), module))
    split_of = {b: split for split, books in SPLITS.items() for b in books}

    only_en = [k for k in en if k not in es]
    only_es = [k for k in es if k not in en]
    shared = [k for k in en if k in es]  # WEB order = canonical order (OT, deuterocanon, NT)
    shared_books = []
    for k in shared:
        if not shared_books or shared_books[-1] != k[0]:
            shared_books.append(k[0])

    # 1. pairs with an empty side (verse omitted by one text, or its slot left empty)
    empty = {k for k in shared if not en[k] or not es[k]}
    # 2. verse-boundary / versification mismatches and length outliers (see VerseAligner)
    full = [k for k in shared if k not in empty]
    aligner = VerseAligner(en, es, full)
    kept = set()
    for book in shared_books:
        kept |= aligner.aligned_keys([k for k in shared if k[0] == book], en, es)
    shifted = {k for k in full if k not in kept}
    # A slot the RV importer left empty (Spanish side empty, English not) means the Spanish
    # numbering diverges there; its text usually went into the previous verse ("Job 35:15"
    # holds KJV 35:15-16, "Acts 19:40" holds 19:40-41), which the length/lexical scores
    # cannot always tell from a loose translation. Do not trust that previous pair.
    for k in shared:
        prev = (k[0], k[1], k[2] - 1)
        if en[k] and not es[k] and prev in es and prev not in empty:
            shifted.add(prev)
    outliers = {k for k in full if k in kept
                and abs(aligner.len_z(len(en[k]), len(es[k]))) > MAX_LEN_Z}

    files = {"%s.%s" % (sp, lang): [] for sp in OUTPUT_SPLITS for lang in MODULES}
    pairs = Counter()
    books_in = {sp: set() for sp in list(SPLITS) + ["train"]}
    tsv = []
    for key in full:
        if key in shifted or key in outliers:
            continue
        book = key[0]
        split = split_of.get(book, "train")
        pairs[split] += 1
        books_in[split].add(book)
        if split == "reserved":
            continue  # held out: written nowhere
        e, s = en[key], es[key]
        files["%s.en" % split].append(e)
        files["%s.es" % split].append(s)
        tsv.append("\t".join((split, book, str(key[1]), str(key[2]), e, s)))

    # Last line of defence: nothing that looks like markup may reach the files.
    residue = re.compile(r"[<>\x00\r\n]|&#?\w+;|\$\$\$")
    for name, lines in files.items():
        if not lines:
            raise ExtractError("no pairs for %s" % name)
        for line in lines:
            if residue.search(line):
                raise ExtractError("markup residue in %s: %r" % (name, line[:120]))

    write_atomically(args.outdir, files)
    if args.pairs_tsv:
        with open(args.pairs_tsv, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(line + "\n" for line in tsv))

    # Summary.
    if args.verbose:
        for k, v in sorted(stats.items()):
            log("  %-40s %d" % (k, v))
        for key, col in colophons:
            log("  RV colophon cut from %s %d:%d: %s" % (key + (col,)))
        log("  length outliers: %s" % "; ".join(_ranges(full, outliers)))
    en_only_books = [b for b in books_of["en"] if b not in books_of["es"]]
    es_only_books = [b for b in books_of["es"] if b not in books_of["en"]]
    log("[bible] books in both: %d; only in %s: %d (%s); only in %s: %d%s"
        % (len(shared_books), MODULES["en"], len(en_only_books), ", ".join(en_only_books),
           MODULES["es"], len(es_only_books),
           " (%s)" % ", ".join(es_only_books) if es_only_books else ""))
    log("[bible] unaligned keys (in one module only): %d only in %s, %d only in %s; "
        "in books present in both: %s"
        % (len(only_en), MODULES["en"], len(only_es), MODULES["es"],
           ", ".join("%s %d:%d" % k for k in only_en + only_es
                     if k[0] in shared_books) or "none"))
    log("[bible] dropped: %d pairs with an empty side, %d pairs whose verse boundaries differ "
        "(%d stretches), %d length outliers; %d RV colophons cut"
        % (len(empty), len(shifted), len(_ranges(full, shifted)), len(outliers),
           len(colophons)))
    log("[bible]   boundary mismatches: %s" % "; ".join(_ranges(full, shifted)))
    for split in OUTPUT_SPLITS:
        log("[bible] %-5s %6d pairs  %2d books" % (split, pairs[split], len(books_in[split])))
    log("[bible] reserved (excluded, not written): %d pairs, %d books (%s)"
        % (pairs["reserved"], len(books_in["reserved"]), ", ".join(SPLITS["reserved"])))
    log("[bible] total %d aligned pairs; wrote %s/{train,valid,test}.{en,es}"
        % (sum(pairs.values()), os.path.abspath(args.outdir)))
    if stats["unterminated dropped element"] or stats["literal < or > after stripping"]:
        log("[bible] warning: %d unterminated dropped elements, %d verses with literal < or >"
            % (stats["unterminated dropped element"], stats["literal < or > after stripping"]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ExtractError as e:
        print("extract_bible: error: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
