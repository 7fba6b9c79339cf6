# shellcheck shell=bash
# Shared variables and helpers for the test gateway scripts. Sourced, never run.
# shellcheck disable=SC2034 # variables are used by the scripts that source this file

# Failures inside $(...) stop the script too (die in a helper called as x=$(helper)).
shopt -s inherit_errexit

GATEWAY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$GATEWAY_DIR/../.." && pwd)"
DEVICE_SCRIPTS="$REPO_ROOT/device-scripts"
RK64_CACHE="${RK64_CACHE:-/var/cache/rk64}"
ARM64_DIR="${ARM64_DIR:-$RK64_CACHE/arm64}"
GATEWAY_CACHE="${GATEWAY_CACHE:-$RK64_CACHE/gateway}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY="${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
UBOOT_QEMU_BIN="${UBOOT_QEMU_BIN:-/usr/lib/u-boot/qemu_arm64/u-boot.bin}"

say() { printf 'gateway: %s\n' "$*" >&2; }
die() { printf 'gateway: error: %s\n' "$*" >&2; exit 1; }

# The single Debian arm64 kernel release unpacked by scripts/setup.
kernel_release() {
  local dirs=("$ARM64_DIR"/lib/modules/*)
  [[ ${#dirs[@]} -eq 1 && -d ${dirs[0]} ]] || die "expected exactly one kernel under $ARM64_DIR/lib/modules; run scripts/setup"
  basename "${dirs[0]}"
}

# sha256 of files and directories (contents, and names relative to each directory), for cache
# keys. A file is hashed through stdin: its path (the checkout's location, or /dev/fd/NN for a
# <(...) input, whose number varies) must not change the key.
hash_inputs() {
  local path
  for path in "$@"; do
    if [[ -d $path ]]; then
      (cd "$path" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    elif [[ -e $path ]]; then
      sha256sum <"$path"
    else
      printf 'missing %s\n' "$path"
    fi
  done | sha256sum | cut -c1-16
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap, loop-free image assembly and QEMU networking); try: sudo $0"
}

# Removes a build directory left by an interrupted build. mmdebstrap (root mode) mounts /proc,
# /sys, /dev/pts and /dev/shm inside its target and a killed run leaves them mounted: unmount
# everything below first, and never cross into another file system while deleting.
remove_build_dir() {
  local dir=$1 mnt
  [[ -e $dir ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}
