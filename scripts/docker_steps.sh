#!/usr/bin/env bash
# Runs the Dockerfile's CPU build steps on this machine, as CI does (no Docker engine runs there): for the
# stages cpu-build and cpu, in order, each ENV is exported, WORKDIR /work is this checkout, each RUN runs
# here with bash, `COPY <src> <dst>` from the build context and `COPY --from=cpu-build <path>` are checked
# to exist (so the final image would get its files). Any other instruction fails the check, so the
# Dockerfile and this script stay in step.
#   scripts/docker_steps.sh [Dockerfile]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="${1:-$here/Dockerfile}"
python3 - "$dockerfile" "$here" > "$here/build-docker-steps.sh" <<'PY'
import re, shlex, sys
path, root = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"\\\n", " ", text)           # line continuations
stage, out, seen = None, ["set -euo pipefail", f"cd {shlex.quote(root)}"], set()
def work(p):                                 # /work (the image's checkout) is this checkout here
    return root + p[len("/work"):] if p == "/work" or p.startswith("/work/") else p
for n, line in enumerate(text.splitlines(), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    op, _, rest = line.partition(" ")
    op = op.upper()
    if op == "ARG":
        continue
    if op == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
        stage = m.group(2)
        if stage in ("cpu-build", "cpu"):
            seen.add(stage)
            out.append(f"echo '[docker_steps] stage {stage} ({m.group(1)})'")
        continue
    if stage not in ("cpu-build", "cpu"):
        continue
    where = f"{path}:{n}"
    if op == "ENV":
        for k, v in re.findall(r"(\w+)=(\S+)", rest):
            out.append(f"export {k}={v}")
    elif op == "WORKDIR":
        out.append(f"cd {shlex.quote(work(rest))}")
    elif op == "RUN":
        out.append(f"echo '[docker_steps] RUN {rest[:100]}'")
        out.append(f"(cd \"$PWD\" && bash -c {shlex.quote(rest)}) || {{ echo '{where}: RUN failed' >&2; exit 1; }}")
    elif op == "COPY":
        args = rest.split()
        src_from = [a for a in args if a.startswith("--from=")]
        srcs = [a for a in args if not a.startswith("--")][:-1]
        for s in srcs:
            p = work(s) if src_from else (root + "/" + s if s != "." else root)
            out.append(f"[ -e {shlex.quote(p)} ] || {{ echo '{where}: COPY source {s} missing ({p})' >&2; exit 1; }}")
    elif op in ("ENTRYPOINT", "CMD", "LABEL", "EXPOSE", "USER", "SHELL"):
        continue
    else:
        sys.exit(f"{where}: docker_steps.sh does not know how to run {op}")
if seen != {"cpu-build", "cpu"}:
    sys.exit(f"{path}: stages cpu-build and cpu not found (found {sorted(seen)})")
out.append("echo '[docker_steps] cpu stages: all steps ran'")
print("\n".join(out))
PY
bash "$here/build-docker-steps.sh"
