#!/usr/bin/env bash
# Set up everything the project needs, then run the bot or the tests.
#   ./dev.sh run  [run_bot.py arguments]   set up and run the bot (local mode without a token)
#   ./dev.sh test [pytest arguments]       set up and run ruff, the content check and the tests
set -euo pipefail
cd "$(dirname "$0")"

python_bin() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
  echo "Python 3.11 is needed" >&2; exit 1
}

setup_python() {
  [ -x .venv/bin/python ] || "$(python_bin)" -m venv .venv
  local stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    # A CPU build of torch first: an unpinned torch would pull gigabytes of CUDA packages.
    .venv/bin/python -m pip install --quiet torch==2.13.0
    .venv/bin/python -m pip install --quiet -e ".[test]"
    touch "$stamp"
  fi
}

setup_browser() {
  # The browser tests drive Debian's Chromium headless.
  if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/noto ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  fi
}

command="${1:-run}"
shift || true
case "$command" in
  run)
    setup_python
    exec .venv/bin/python run_bot.py "$@"
    ;;
  test)
    setup_python
    setup_browser
    .venv/bin/python -m ruff check .
    .venv/bin/python run_bot.py check
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run|test [arguments]" >&2
    exit 2
    ;;
esac
