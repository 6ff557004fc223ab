#!/usr/bin/env bash
# Regenerate uv.lock from pyproject.toml, then commit both. ./run.sh and ./test.sh install exactly
# what uv.lock says (`uv sync --frozen`), and ./test.sh fails while uv.lock is out of date.
#   scripts/lock.sh                      after adding/removing/changing a dependency: versions already
#                                        locked are kept where pyproject still allows them
#   scripts/lock.sh --upgrade            every package to its newest allowed version
#   scripts/lock.sh --upgrade-package X  only X
# After a merge left conflict markers in uv.lock, the lock is rebuilt from HEAD's uv.lock and the
# merged pyproject.toml (the same result as locking the merged pyproject by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -q '^<<<<<<< \|^>>>>>>> ' uv.lock 2>/dev/null; then
  echo "uv.lock has merge conflict markers: starting from HEAD's uv.lock"
  git show HEAD:uv.lock > uv.lock
fi
bash scripts/uv.sh lock "$@"
bash scripts/uv.sh lock --check >/dev/null
echo "uv.lock is up to date with pyproject.toml; commit it"
