# shellcheck shell=bash
# Shared shell functions for the rk64 device scripts. Source it; do not run it.
#   log LINE...     one line on stderr prefixed with the program name (the journal on the gateway)
#   die LINE...     log and exit 1 (callers pick another code with `die_with CODE LINE...`)
#   need_cmd NAME   fail with a clear line when a program is missing
#   iso_now         the current time, ISO 8601 UTC
#   json_str S      S as a JSON string (quotes and escapes included; made by jq)
#   atomic_write F  write stdin to F via a temporary file and rename (readers never see half a file)
# Variables with production defaults (every script may override before sourcing):
#   RK64_DATA=/data  RK64_CONFIG_DIR=$RK64_DATA/config  RK64_RUN_DIR=/run/rk64  RK64_SYSCONFDIR=/etc

: "${RK64_DATA:=/data}"
: "${RK64_CONFIG_DIR:=$RK64_DATA/config}"
: "${RK64_RUN_DIR:=/run/rk64}"
: "${RK64_SYSCONFDIR:=/etc}"
: "${RK64_PROG:=${0##*/}}"
: "${JQ:=jq}"

log() { printf '%s: %s\n' "$RK64_PROG" "$*" >&2; }

die_with() {
  local code=$1
  shift
  printf '%s: error: %s\n' "$RK64_PROG" "$*" >&2
  exit "$code"
}

die() { die_with 1 "$@"; }

need_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "required program '$cmd' not found; install it or set the matching variable"
  done
}

# bash's own strftime: every journal line and state file carries a time, and a program start is
# what costs on the gateway's CPU.
iso_now() { TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' -1; }

# jq escapes every control character (a hand-made escape misses some, and the console drops a
# document with a raw control byte in a string).
json_str() { "$JQ" -n --arg s "$1" '$s'; }

atomic_write() {
  local target=$1 dir=. tmp content=''
  [[ $target == */* ]] && dir=${target%/*}
  [[ -d $dir ]] || mkdir -p "$dir"
  # All of stdin, read by the shell itself (these files are text, never a NUL byte): this runs for
  # every step of an install and several times per boot, and on a slow board every program
  # started counts.
  IFS= read -r -d '' content || true
  tmp=$target.tmp-$$-$RANDOM
  # noclobber: the temporary file is created new (O_EXCL), never an existing file or a link.
  if ! (set -C && umask 022 && printf '%s' "$content" >"$tmp"); then
    rm -f "$tmp"
    return 1
  fi
  # The content reaches the disk before the name does, and the name before we return: a power
  # cut or a watchdog reset right after leaves the old file or the new one, never an empty one.
  # A sync that fails costs a log line, not the write: the file is as written as it was before.
  sync -- "$tmp" || log "could not sync $tmp to disk"
  mv -f "$tmp" "$target" || { rm -f "$tmp"; return 1; }
  sync -- "$dir" || log "could not sync $dir to disk"
}

# ---- RAUC: booted slot and its commit record ---------------------------------------------------
# RAUC's U-Boot backend calls a slot "good" while its boot counter is above 0, and the boot script
# lowers the counter on every boot, so "good" alone cannot tell a confirmed installation from one
# on trial. os-verification and first-boot therefore record each installation they confirm in
# $RK64_COMMIT_FILE as "<bootname> <install timestamp|factory>"; a slot is committed when the
# record names the booted slot's current installation.
: "${RAUC:=rauc}"
: "${RK64_STATE_DIR:=$RK64_DATA/rk64}"
: "${RK64_COMMIT_FILE:=$RK64_STATE_DIR/committed}"

# Prints "<bootname>\t<install id>\t<bundle version>" for the booted slot; fails with a message.
booted_slot_info() {
  local json
  json=$("$RAUC" status --detailed --output-format=json 2>&1) || {
    log "rauc status failed: $(head -n 1 <<<"$json")"
    return 1
  }
  "$JQ" -er '
    .booted as $b
    | [.slots[] | to_entries[] | select(.value.class == "rootfs" and .value.bootname == $b)][0].value as $s
    | if $b == null or $s == null then error("no booted rootfs slot in rauc status") else . end
    | [$b, ($s.slot_status.installed.timestamp // "factory"), ($s.slot_status.bundle.version // "")]
    | @tsv' <<<"$json"
}

# True when the booted slot's current installation has been confirmed. INFO: what
# booted_slot_info printed, when the caller has it (each rauc and jq run counts on a Cortex-A53).
booted_slot_committed() { # booted_slot_committed [INFO]
  local info=${1-} bootname install_id
  [[ -n $info ]] || info=$(booted_slot_info) || return 1
  IFS=$'\t' read -r bootname install_id _ <<<"$info"
  [[ -f $RK64_COMMIT_FILE && $(<"$RK64_COMMIT_FILE") == "$bootname $install_id" ]]
}

# rauc status mark-good for the booted slot, then record the installation as committed and, in
# the lifecycle journal, who marked it good (BY: the program or "console"; empty: not journaled, for
# a slot confirmed again at every boot). INFO as for booted_slot_committed.
commit_booted_slot() { # commit_booted_slot [BY [INFO]]
  local info=${2-} bootname install_id out by=${1-$RK64_PROG}
  [[ -n $info ]] || info=$(booted_slot_info) || return 1
  IFS=$'\t' read -r bootname install_id _ <<<"$info"
  out=$("$RAUC" status mark-good booted 2>&1) || {
    log "rauc status mark-good failed: $(head -n 1 <<<"$out")"
    return 1
  }
  printf '%s %s\n' "$bootname" "$install_id" | atomic_write "$RK64_COMMIT_FILE"
  [[ -z $by ]] || journal_event marked "$("$JQ" -nc --arg slot "$bootname" --arg by "$by" '{slot: $slot, verdict: "good", by: $by}')"
  log "slot $bootname ($install_id) marked good and committed"
}

# rauc_failure_reason OUTPUT: the reason from `rauc install`'s output (stdout and stderr). The
# client ends a failure with "LastError: <reason>" then "Installing `<bundle>` failed"; the
# reason is the line an operator needs (bad signature, wrong compatible, ...), the last line is
# not. Without a LastError line: the last line that is neither progress nor that summary.
rauc_failure_reason() {
  local reason
  reason=$(sed -n 's/^[[:space:]]*LastError:[[:space:]]*//p' <<<"$1" | tail -n 1)
  [[ -n $reason ]] || reason=$(grep -Ev '^[[:space:]]*[0-9]{1,3}%|^installing|^Installing `.*` failed|^__rauc_exit=|^[[:space:]]*$' <<<"$1" | tail -n 1) || true
  printf '%s\n' "$reason"
}

# rauc_boot_attempts: the boot attempts RAUC gives a slot it marks good (`boot-attempts` in the
# [system] section of its system.conf: $RK64_RAUC_CONF, else $RK64_SYSCONFDIR/rauc/system.conf);
# prints nothing when the file or the key is missing.
rauc_boot_attempts() {
  local conf=${RK64_RAUC_CONF:-$RK64_SYSCONFDIR/rauc/system.conf} line value found='' in_system=0
  [[ -r $conf ]] || return 0
  # Read by bash itself: the console's status read runs this, and a program start is what costs
  # on the gateway's CPU.
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*\[ ]]; then
      in_system=0
      [[ $line =~ ^[[:space:]]*\[system\][[:space:]]*$ ]] && in_system=1
      continue
    fi
    ((in_system)) && [[ $line =~ ^[[:space:]]*boot-attempts[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
    value=${BASH_REMATCH[1]}
    value=${value%"${value##*[![:space:]]}"}
    [[ $value =~ ^[0-9]{1,4}$ ]] && found=$((10#$value))
  done <"$conf"
  [[ -z $found ]] || printf '%s\n' "$found"
}

# ---- Versions ----------------------------------------------------------------------------------
# The version of the running system: the booted slot's bundle version (rauc status), else the
# image's own IMAGE_VERSION (then VERSION_ID) from os-release, else 0. RK64_CURRENT_VERSION
# overrides it (tests, recovery).
running_version() {
  if [[ -n ${RK64_CURRENT_VERSION:-} ]]; then
    printf '%s\n' "$RK64_CURRENT_VERSION"
    return
  fi
  local info version='' osr=$RK64_SYSCONFDIR/os-release
  info=$(booted_slot_info 2>/dev/null) && version=$(cut -f3 <<<"$info")
  if [[ -z $version && -r $osr ]]; then
    # IMAGE_VERSION is the image's own version; VERSION_ID (the distribution's) comes earlier in
    # both NixOS's and Debian's os-release, so it may only be the fallback.
    # shellcheck disable=SC1090 # os-release is shell assignments by specification
    version=$(. "$osr" && printf '%s' "${IMAGE_VERSION:-${VERSION_ID:-}}")
  fi
  printf '%s\n' "${version:-0}"
}

# A version as rk64 accepts it from a manifest or a bundle: 1-64 characters, letters, digits and
# . _ + ~ - , starting with a letter or digit (nothing a path, a shell or a terminal reads as special).
readonly RK64_VERSION_RE='^[0-9A-Za-z][0-9A-Za-z._+~-]{0,63}$'
valid_version() { [[ $1 =~ $RK64_VERSION_RE ]]; }

# version_newer A B: true when A sorts strictly after B as a version (sort -V).
version_newer() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1) == "$1" ]]; }

# : "${RK64_RAUC_CONF:=}" system.conf for `rauc info` (empty: rauc's default /etc/rauc/system.conf).
: "${RK64_RAUC_CONF:=}"

# bundle_version FILE: the version inside a bundle's signed manifest (`rauc info` checks the
# signature against the keyring first). Sets BUNDLE_VERSION, or BUNDLE_ERROR and returns 1 (call
# it directly, not in $(...), so the caller sees both).
# shellcheck disable=SC2034 # BUNDLE_VERSION and BUNDLE_ERROR are read by the callers
bundle_version() {
  local out version
  local -a conf=()
  [[ -n $RK64_RAUC_CONF ]] && conf=("--conf=$RK64_RAUC_CONF")
  BUNDLE_ERROR='' BUNDLE_VERSION=''
  if ! out=$("$RAUC" info "${conf[@]}" --output-format=json "$1" 2>&1); then
    BUNDLE_ERROR="rauc info refused the bundle: $(rauc_failure_reason "$out")"
    return 1
  fi
  version=$(grep -v '^[^{]' <<<"$out" | "$JQ" -r '.version // empty | strings' 2>/dev/null) || version=''
  if ! valid_version "$version"; then
    BUNDLE_ERROR="the bundle's signed manifest has no valid version (1-64 of A-Z a-z 0-9 . _ + ~ -)"
    return 1
  fi
  BUNDLE_VERSION=$version
}

# ---- Update server configuration ---------------------------------------------------------------
# $RK64_CONFIG_DIR/update.conf, lines `key=value` (# comments): manifest_url (os-upgrade) and
# ca_file (optional: PEM file of the one CA every download trusts; default: the system's CAs).
: "${RK64_UPDATE_CONF:=$RK64_CONFIG_DIR/update.conf}"

update_conf_value() { # update_conf_value KEY: the last value, surrounding blanks removed
  [[ -f $RK64_UPDATE_CONF ]] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$RK64_UPDATE_CONF" | tail -n 1 | sed 's/[[:space:]]*$//'
}

# ---- Downloads ---------------------------------------------------------------------------------
: "${CURL:=curl}"
: "${RK64_CONNECT_TIMEOUT:=15}"

# The device's scheme rule, shared with the console (docs/security.md): a source that starts with
# `scheme://` (RFC 3986 scheme: a letter, then letters, digits, + - .; case-insensitive) is a URL;
# of those only https is fetched. Anything else is a file name.
is_url() { [[ $1 =~ ^[A-Za-z][A-Za-z0-9+.-]*:// ]]; }
is_https_url() { [[ ${1,,} =~ ^https://[^[:space:]/?#]+([/?#][^[:space:]]*)?$ ]]; }

# download URL FILE MAX_SECONDS MAX_BYTES: fetch over https (redirects too) into FILE, at most
# MAX_BYTES; with ca_file in update.conf only that CA is trusted. On failure remove FILE, set
# DOWNLOAD_ERROR to one phrase (refused, HTTP status, timeout, too large, truncated, disk full)
# and return 1.
# shellcheck disable=SC2034 # DOWNLOAD_ERROR is read by the callers
download() {
  local url=$1 file=$2 max=$3 max_bytes=$4 code status ca
  local -a tls=()
  DOWNLOAD_ERROR=''
  if ! is_https_url "$url"; then
    DOWNLOAD_ERROR="refusing to fetch $(printf '%q' "$url"): only https:// URLs are allowed"
    return 1
  fi
  ca=$(update_conf_value ca_file)
  if [[ -n $ca ]]; then
    if [[ ! -f $ca || ! -r $ca ]]; then
      DOWNLOAD_ERROR="ca_file $ca (in $RK64_UPDATE_CONF) is not a readable file"
      return 1
    fi
    tls=(--cacert "$ca" --capath /nonexistent)
  fi
  status=0
  # The size cap holds whatever the server announces: curl stops at --max-filesize when the
  # server sends a length, and the file size limit (ulimit -f, 1 KiB blocks; SIGXFSZ ignored so
  # the write fails instead) stops a server that sends more than it announced or no length.
  code=$(
    trap '' XFSZ
    ulimit -f $((max_bytes / 1024 + 1))
    "$CURL" -sS -L --proto =https --proto-redir =https --max-redirs 5 --fail \
      --connect-timeout "$RK64_CONNECT_TIMEOUT" --max-time "$max" --speed-limit 1 --speed-time "$max" \
      --max-filesize "$max_bytes" "${tls[@]}" -w '%{http_code}' -o "$file" "$url" 2>/dev/null
  ) || status=$?
  if [[ $status -eq 0 && $(stat -c %s "$file") -gt $max_bytes ]] ||
    [[ $status -eq 63 ]] || [[ $status -eq 23 && -f $file && $(stat -c %s "$file") -ge $max_bytes ]]; then
    rm -f "$file"
    DOWNLOAD_ERROR="$url is larger than the $max_bytes bytes allowed"
    return 1
  fi
  [[ $status -eq 0 ]] && return 0
  rm -f "$file"
  case $status in
    1) DOWNLOAD_ERROR="refused a redirect away from https while fetching $url" ;;
    6) DOWNLOAD_ERROR="cannot resolve the host of $url" ;;
    7) DOWNLOAD_ERROR="connection refused by $url" ;;
    22) DOWNLOAD_ERROR="server answered HTTP $code for $url" ;;
    28) DOWNLOAD_ERROR="timed out after ${max}s fetching $url" ;;
    18) DOWNLOAD_ERROR="transfer of $url ended early (truncated)" ;;
    23) DOWNLOAD_ERROR="cannot write $file (disk full?)" ;;
    47) DOWNLOAD_ERROR="too many redirects fetching $url" ;;
    52 | 56) DOWNLOAD_ERROR="connection to $url broke off" ;;
    35 | 51 | 58 | 60 | 77 | 83 | 90 | 91) DOWNLOAD_ERROR="TLS failure talking to $url (curl exit $status: certificate not trusted or handshake failed)" ;;
    *) DOWNLOAD_ERROR="download of $url failed (curl exit $status)" ;;
  esac
  return 1
}

# free_bytes DIR: bytes available to an unprivileged-or-root writer in DIR's file system.
free_bytes() { df -B1 --output=avail "$1" | tail -n 1 | tr -d ' '; }

# ---- SSH on WAN --------------------------------------------------------------------------------
# The flag is a regular file or nothing: empty means open until turned off; `expires=<epoch>`
# means open until then (rk64-action ssh-wan on --for). Anything else at that path (a directory,
# a symbolic link, a device, other content) is refused: SSH on WAN stays closed.
: "${RK64_SSH_WAN_FLAG:=$RK64_CONFIG_DIR/ssh-wan-enabled}"

# ssh_wan_read: sets SSH_WAN (on|off), SSH_WAN_EXPIRES (epoch, or empty when open without a time
# limit), SSH_WAN_EXPIRED (1 when a time limit has passed) and SSH_WAN_ERROR (why the flag was refused).
# shellcheck disable=SC2034 # read by the callers
ssh_wan_read() {
  local flag=$RK64_SSH_WAN_FLAG content
  SSH_WAN=off SSH_WAN_EXPIRES='' SSH_WAN_EXPIRED=0 SSH_WAN_ERROR=''
  if [[ -L $flag ]]; then
    SSH_WAN_ERROR="$flag is a symbolic link, not a regular file: refused, SSH on WAN stays closed (remove it)"
    return 0
  fi
  [[ -e $flag ]] || return 0
  if [[ ! -f $flag ]]; then
    SSH_WAN_ERROR="$flag is not a regular file ($(stat -c %F "$flag" 2>/dev/null || echo unknown type)): refused, SSH on WAN stays closed (remove it)"
    return 0
  fi
  content=$(head -c 64 "$flag" | tr -d '[:space:]') || content='?'
  if [[ -z $content ]]; then
    SSH_WAN=on
  elif [[ $content =~ ^expires=([0-9]{1,12})$ ]]; then
    SSH_WAN_EXPIRES=$((10#${BASH_REMATCH[1]}))
    if ((SSH_WAN_EXPIRES > $(date +%s))); then SSH_WAN=on; else SSH_WAN_EXPIRED=1; fi
  else
    SSH_WAN_ERROR="$flag holds something other than nothing or expires=<epoch>: refused, SSH on WAN stays closed"
  fi
}

# wan_interface: the WAN interface: RK64_WAN_IF, else the Name= of the shipped WAN .network
# ($RK64_WAN_NETWORK); fails when neither names one.
: "${RK64_WAN_NETWORK:=$RK64_SYSCONFDIR/systemd/network/10-rk64-wan.network}"
wan_interface() {
  if [[ -n ${RK64_WAN_IF:-} ]]; then
    printf '%s\n' "$RK64_WAN_IF"
    return
  fi
  local line
  [[ -r $RK64_WAN_NETWORK ]] || return 1
  # The first Name= line with an interface name; read by bash itself (see rauc_boot_attempts).
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*Name[[:space:]]*=[[:space:]]*([A-Za-z0-9_.-]{1,15})[[:space:]]*$ ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$RK64_WAN_NETWORK"
  return 1
}

# ---- Lifecycle journal (lib/lifecycle.sh) ------------------------------------------------------
# Its directory without dirname: every device script sources this file, and a program start is
# what costs on the gateway's CPU.
RK64_LIB_DIR=.
[[ ${BASH_SOURCE[0]} != */* ]] || RK64_LIB_DIR=${BASH_SOURCE[0]%/*}
# shellcheck source=lifecycle.sh
. "$RK64_LIB_DIR/lifecycle.sh"
