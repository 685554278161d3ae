#!/usr/bin/env bash
# Installs the Debian packages referrald needs, only those missing.
# Usage: scripts/setup.sh [build|test|bench]   (each group includes the ones before it)
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsoci-dev libsqlite3-dev libpq-dev libsodium-dev libcurl4-openssl-dev
  libspdlog-dev libcli11-dev libcrypt-dev libidn2-dev libqrencode-dev libhowardhinnant-date-dev tzdata)
test_pkgs=(libgtest-dev postgresql python3 python3-pytest python3-requests
  python3-psycopg2 clang libclang-rt-14-dev nginx pgbouncer chromium chromium-driver python3-selenium)
bench_pkgs=(wrk linux-perf)

group=${1:-build}
wanted=("${build_pkgs[@]}")
case "$group" in
  build) ;;
  test) wanted+=("${test_pkgs[@]}") ;;
  bench) wanted+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "setup.sh: unknown group '$group' (build|test|bench)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
