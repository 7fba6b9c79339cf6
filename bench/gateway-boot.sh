#!/usr/bin/env bash
# Benchmark the test gateway: image build time and boot-to-SSH (first boot with systemd-repart and
# first-boot, then a second boot of the same disk). Appends one row to the "Test gateway" table in
# docs/benchmarks.md with the machine it ran on. Timings are recorded, never asserted.
#
# Usage: bench/gateway-boot.sh [--cold]
#   --cold  build in an empty cache (mmdebstrap included), as CI does; otherwise reuse the cache.
# Must run as root (it starts the gateway). Exit codes: 0 ok, 1 failed, 2 usage.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT_DIR
readonly GATEWAY="$ROOT_DIR/test/gateway/gateway"
readonly DOC="$ROOT_DIR/docs/benchmarks.md"
readonly NAME="bench-$$"

die() { printf 'gateway-boot: error: %s\n' "$*" >&2; exit 1; }

machine() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  [[ -n $cpu ]] || cpu=$(uname -m)
  printf '%s, %s cores, %s GiB, load %s' "$cpu" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%d", $2 / 1048576}' /proc/meminfo)" "$(cut -d' ' -f1 /proc/loadavg)"
}

ensure_table() {
  mkdir -p "$(dirname "$DOC")"
  [[ -f $DOC ]] || printf '# Benchmarks\n' >"$DOC"
  if ! grep -q '^## Test gateway' "$DOC"; then
    cat >>"$DOC" <<'TABLE'

## Test gateway

Recorded by `bench/gateway-boot.sh` (`--cold`: empty build cache, mmdebstrap included). Boot-to-SSH
is measured from QEMU power-on (`cont`) until SSH answers with the provisioned key and the host key
read from the serial console. No KVM: everything is emulated (TCG).

| date (UTC) | build | base root (mmdebstrap) | image (root, initrd, squashfs, disk) | first boot to SSH | second boot to SSH | machine |
| --- | --- | --- | --- | --- | --- | --- |
TABLE
  fi
}

append_row() {
  local row=$1 tmp
  tmp=$(mktemp)
  # Insert after the last row of the Test gateway table (the table ends at a blank line or EOF).
  awk -v row="$row" '
    /^## Test gateway/ { in_section = 1 }
    in_section && /^\|/ { last = NR }
    { lines[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) { print lines[i]; if (i == last) print row }
    }' "$DOC" >"$tmp"
  mv "$tmp" "$DOC"
}

main() {
  local cold=0
  case ${1:-} in
    --cold) cold=1 ;;
    '') ;;
    *) printf 'usage: bench/gateway-boot.sh [--cold]\n' >&2; exit 2 ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "must run as root (it starts QEMU with a LAN tap); try: sudo $0"
  if [[ $cold -eq 1 ]]; then
    GATEWAY_CACHE=$(mktemp -d /var/tmp/rk64-gateway-bench.XXXXXX)
    export GATEWAY_CACHE
    trap 'bash "$GATEWAY" down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$GATEWAY_CACHE"' EXIT
  else
    trap 'bash "$GATEWAY" down --name "$NAME" >/dev/null 2>&1 || true' EXIT
  fi
  local started build_dir build_s base_s image_s first_ms second_ms
  started=$(date +%s)
  build_dir=$(bash "$GATEWAY" build | tail -n 1)
  build_s=$(($(date +%s) - started))
  base_s=$(jq -r 'if .baseCached then "cached" else "\(.baseSeconds) s" end' "$build_dir/build.json")
  image_s=$(jq -r '.imageSeconds' "$build_dir/build.json")
  if [[ $build_s -lt $image_s ]]; then image_s="cached"; else image_s="$image_s s"; fi
  first_ms=$(bash "$GATEWAY" up --name "$NAME" --fresh --isolated --json | jq -r .bootToSshMs)
  bash "$GATEWAY" power-cut --name "$NAME" >/dev/null
  second_ms=$(bash "$GATEWAY" up --name "$NAME" --isolated --json | jq -r .bootToSshMs)
  bash "$GATEWAY" down --name "$NAME" >/dev/null
  rm -rf "${GATEWAY_STATE:-${GATEWAY_CACHE:-/var/cache/rk64/gateway}/instances}/$NAME"
  ensure_table
  append_row "$(printf '| %s | %s s%s | %s | %s | %.1f s | %.1f s | %s |' "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$build_s" "$([[ $cold -eq 1 ]] && echo ' (cold)')" "$base_s" "$image_s" \
    "$(bc <<<"scale=1; $first_ms / 1000")" "$(bc <<<"scale=1; $second_ms / 1000")" "$(machine)")"
  printf 'gateway-boot: build %s s, first boot to SSH %s ms, second boot to SSH %s ms (recorded in %s)\n' \
    "$build_s" "$first_ms" "$second_ms" "$DOC"
}

main "$@"
