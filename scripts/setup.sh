#!/usr/bin/env bash
# Installs what the tests need into the project, pinned: a Python virtualenv
# with moto, cfn-lint and the SAM CLI. Safe to run again; it only reinstalls
# when requirements-dev.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 is required" >&2; exit 1; }

stamp=.venv/.requirements-dev.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # The first install takes about two minutes (~400 MB, mostly the SAM CLI
  # and moto's dependencies): show each package as pip gets to it, and pip's
  # errors. pipefail (above) keeps pip's failure the pipeline's.
  echo "setup: installing Python test tools into .venv (requirements-dev.txt; about 2 minutes the first time)"
  .venv/bin/pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt 2>&1 \
    | { grep --line-buffered -E '^(Collecting|Installing|Successfully|ERROR|error)' || true; }
  echo "$want" > "$stamp"
fi
