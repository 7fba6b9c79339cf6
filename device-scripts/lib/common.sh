# shellcheck shell=bash
# Shared shell functions for the rk64 device scripts. Source it; do not run it.
#   log LINE...     one line on stderr prefixed with the program name (the journal on the gateway)
#   die LINE...     log and exit 1 (callers pick another code with `die_with CODE LINE...`)
#   need_cmd NAME   fail with a clear line when a program is missing
#   iso_now         the current time, ISO 8601 UTC
#   json_str S      S as a JSON string (quotes and escapes included)
#   atomic_write F  write stdin to F via a temporary file and rename (readers never see half a file)
# Variables with production defaults (every script may override before sourcing):
#   RK64_DATA=/data  RK64_CONFIG_DIR=$RK64_DATA/config  RK64_RUN_DIR=/run/rk64  RK64_SYSCONFDIR=/etc

: "${RK64_DATA:=/data}"
: "${RK64_CONFIG_DIR:=$RK64_DATA/config}"
: "${RK64_RUN_DIR:=/run/rk64}"
: "${RK64_SYSCONFDIR:=/etc}"
: "${RK64_PROG:=$(basename "$0")}"

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

iso_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

atomic_write() {
  local target=$1 tmp
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$target.XXXXXX")
  if ! cat >"$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$target"
}

# ---- RAUC: booted slot and its commit record ---------------------------------------------------
# RAUC's U-Boot backend calls a slot "good" while its boot counter is above 0, and the boot script
# lowers the counter on every boot, so "good" alone cannot tell a confirmed installation from one
# on trial. os-verification and first-boot therefore record each installation they confirm in
# $RK64_COMMIT_FILE as "<bootname> <install timestamp|factory>"; a slot is committed when the
# record names the booted slot's current installation.
: "${RAUC:=rauc}"
: "${JQ:=jq}"
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

# True when the booted slot's current installation has been confirmed.
booted_slot_committed() {
  local info bootname install_id
  info=$(booted_slot_info) || return 1
  IFS=$'\t' read -r bootname install_id _ <<<"$info"
  [[ -f $RK64_COMMIT_FILE && $(<"$RK64_COMMIT_FILE") == "$bootname $install_id" ]]
}

# rauc status mark-good for the booted slot, then record the installation as committed.
commit_booted_slot() {
  local info bootname install_id out
  info=$(booted_slot_info) || return 1
  IFS=$'\t' read -r bootname install_id _ <<<"$info"
  out=$("$RAUC" status mark-good booted 2>&1) || {
    log "rauc status mark-good failed: $(head -n 1 <<<"$out")"
    return 1
  }
  printf '%s %s\n' "$bootname" "$install_id" | atomic_write "$RK64_COMMIT_FILE"
  log "slot $bootname ($install_id) marked good and committed"
}

# rauc_failure_reason OUTPUT: the reason from `rauc install`'s output (stdout and stderr). The
# client ends a failure with "LastError: <reason>" then "Installing `<bundle>` failed"; the
# reason is the line an operator needs (bad signature, wrong compatible, ...), the last line is
# not. Without a LastError line: the last line that is neither progress nor that summary.
rauc_failure_reason() {
  local reason
  reason=$(sed -n 's/^[[:space:]]*LastError:[[:space:]]*//p' <<<"$1" | tail -n 1)
  [[ -n $reason ]] || reason=$(grep -Ev '^[[:space:]]*[0-9]{1,3}%|^installing|^Installing `.*` failed|^__rauc_exit=|^[[:space:]]*$' <<<"$1" | tail -n 1)
  printf '%s\n' "$reason"
}

# ---- Downloads ---------------------------------------------------------------------------------
: "${CURL:=curl}"
: "${RK64_CONNECT_TIMEOUT:=15}"

# download URL FILE MAX_SECONDS [CURL-ARGS...]: fetch into FILE; on failure remove FILE, set
# DOWNLOAD_ERROR to one phrase (refused, HTTP status, timeout, truncated, disk full) and return 1.
# shellcheck disable=SC2034 # DOWNLOAD_ERROR is read by the callers
download() {
  local url=$1 file=$2 max=$3 code status
  shift 3
  DOWNLOAD_ERROR=''
  status=0
  code=$("$CURL" -sS -L --fail --connect-timeout "$RK64_CONNECT_TIMEOUT" --max-time "$max" \
    --speed-limit 1 --speed-time "$max" -w '%{http_code}' -o "$file" "$@" "$url" 2>/dev/null) || status=$?
  [[ $status -eq 0 ]] && return 0
  rm -f "$file"
  case $status in
    6) DOWNLOAD_ERROR="cannot resolve the host of $url" ;;
    7) DOWNLOAD_ERROR="connection refused by $url" ;;
    22) DOWNLOAD_ERROR="server answered HTTP $code for $url" ;;
    28) DOWNLOAD_ERROR="timed out after ${max}s fetching $url" ;;
    18) DOWNLOAD_ERROR="transfer of $url ended early (truncated)" ;;
    23) DOWNLOAD_ERROR="cannot write $file (disk full?)" ;;
    52 | 56) DOWNLOAD_ERROR="connection to $url broke off" ;;
    35 | 51 | 58 | 60) DOWNLOAD_ERROR="TLS failure talking to $url (curl exit $status)" ;;
    *) DOWNLOAD_ERROR="download of $url failed (curl exit $status)" ;;
  esac
  return 1
}

# free_bytes DIR: bytes available to an unprivileged-or-root writer in DIR's file system.
free_bytes() { df -B1 --output=avail "$1" | tail -n 1 | tr -d ' '; }
