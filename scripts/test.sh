#!/usr/bin/env bash
# Set up and run netlab's whole test suite on a fresh Linux machine (Python 3.11+).
# Installs the loopback peers the tests talk to (nginx-light, dnsmasq, dig, curl, tmux, less, tcpdump)
# when it runs as root with apt; without them those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have nginx || need+=(nginx-light)
have dnsmasq || need+=(dnsmasq)
have dig || need+=(bind9-dnsutils)
have curl || need+=(curl)
have tmux || need+=(tmux)
have less || need+=(less)
have tcpdump || need+=(tcpdump)
have setpriv || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test peers: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "note: ${need[*]} missing and not root with apt: tests needing them will skip" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,bench]' \
  2> >(grep -v '^WARNING: Location' >&2)  # this machine's pip config names local mirrors that may be absent
# The architecture is checked by tools, not by review alone (pyproject.toml says what each checks).
.venv/bin/ruff check netlab tests bench scripts  # pyflakes, pycodestyle, isort, bugbear, complexity <= 15
.venv/bin/lint-imports --config pyproject.toml
.venv/bin/mypy --config-file pyproject.toml     # netlab/engine and netlab/lab type-check clean ([tool.mypy] files)
exec .venv/bin/python -m pytest --hypothesis-profile=ci "$@"
