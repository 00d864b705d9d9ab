#!/usr/bin/env bash
# Create (or reuse) the project venv at .venv and install streamproc with its dev extras.
# Prints the venv's python on stdout. Re-installs only when pyproject.toml changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-12)"
if [[ ! -f "$stamp" ]]; then
  echo "venv.sh: installing streamproc into $VENV" >&2
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q -e "$ROOT[dev]" >&2
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi
echo "$VENV/bin/python"
