#!/usr/bin/env bash
# Builds the embedded English-Spanish corpus from the Debian SWORD Bible modules:
# World English Bible (sword-text-web, module engWEB2015eb) and Reina-Valera 1909
# (sword-text-sparv, module spaRV1909eb), dumped with mod2imp (libsword-utils) and cleaned,
# aligned by verse and split by whole books by scripts/extract_bible.py.
#
#   scripts/prepare_bible.sh [--force] [OUTDIR]     (default OUTDIR: <repo>/data/bible)
#
# Writes OUTDIR/{train,valid,test}.{en,es}, one verse per line, aligned line by line.
# Idempotent: does nothing if all six files exist and are newer than this script and
# extract_bible.py (--force rebuilds anyway).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES="sword-text-web sword-text-sparv libsword-utils"
FILES="train.en train.es valid.en valid.es test.en test.es"
SCRIPTS=("$here/scripts/prepare_bible.sh" "$here/scripts/extract_bible.py")

die() { printf 'prepare_bible: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '7,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

force=0
outdir=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option: $arg (see --help)" ;;
    *) [ -z "$outdir" ] || die "only one OUTDIR may be given"; outdir="$arg" ;;
  esac
done
outdir="${outdir:-$here/data/bible}"

# pairs SPLIT -> number of lines of OUTDIR/SPLIT.en
pairs() { wc -l < "$outdir/$1.en" | tr -d ' '; }

# 1. Up to date?
if [ "$force" = 0 ]; then
  fresh=1
  for f in $FILES; do
    for s in "${SCRIPTS[@]}"; do
      if [ ! -f "$outdir/$f" ] || [ ! "$outdir/$f" -nt "$s" ]; then fresh=0; break 2; fi
    done
  done
  if [ "$fresh" = 1 ]; then
    printf '[bible] up to date: %s (train %s, valid %s, test %s pairs); --force rebuilds\n' \
      "$outdir" "$(pairs train)" "$(pairs valid)" "$(pairs test)"
    exit 0
  fi
fi

# 2. Debian packages (install only what is missing).
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    printf '[bible] apt-get install:%s\n' "$missing"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null 2>&1 \
        || die "packages missing:$missing (run as root or install sudo)"
      SUDO="sudo"
    fi
    $SUDO apt-get update -qq || die "apt-get update failed"
    # shellcheck disable=SC2086  # $missing is a word list
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      $missing >/dev/null || die "apt-get install failed:$missing"
  fi
fi
command -v mod2imp >/dev/null 2>&1 || die "mod2imp not found on PATH (Debian package libsword-utils)"
command -v python3 >/dev/null 2>&1 || die "python3 not found"

# 3. Extract (the Python script runs mod2imp, writes the six files atomically and prints
#    the summary; it exits non-zero with a one-line error if anything is wrong).
mkdir -p "$outdir" || die "cannot create $outdir"
python3 "$here/scripts/extract_bible.py" "$outdir"
