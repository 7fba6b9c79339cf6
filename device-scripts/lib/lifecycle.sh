# shellcheck shell=bash
# The lifecycle journal: what happened to each slot, one JSON object per line, in
# $RK64_JOURNAL (docs/boot.md, "Lifecycle journal"). Sourced by lib/common.sh.
#   journal_event EVENT [FIELDS-JSON]  append {"at","event","bootId",...FIELDS} as one line
#   journal_read                       the journal's lines, oldest first (rotated part first)
#   rauc_slot_record BOOTNAME          {"version","hash","primary"} of a rootfs slot from rauc status
#   install_claim BY / install_unclaim an rk64 program journals the install it runs itself
#   journal_rauc_handler started|finished  RAUC's install handlers: journal an unclaimed install
# Appending never fails the caller: a journal that cannot be written costs a log line only.
# One line is built by jq, then written with one write(2) while holding a flock, so two writers
# never interleave and a power cut leaves at most a torn last line, which readers skip; each line
# is synced to disk before the caller goes on. At
# $RK64_JOURNAL_MAX_BYTES the file is renamed to $RK64_JOURNAL.1 (replacing the older part).
# Variables: RK64_JOURNAL ($RK64_STATE_DIR/lifecycle.jsonl), RK64_JOURNAL_MAX_BYTES (262144),
#   RK64_BOOT_ID_FILE (/proc/sys/kernel/random/boot_id), RK64_INSTALL_CLAIM
#   ($RK64_RUN_DIR/install-claim), RK64_HAWKBIT_PID_FILE ($RK64_RUN_DIR/hawkbit-updater.pid).

: "${RK64_JOURNAL:=$RK64_STATE_DIR/lifecycle.jsonl}"
: "${RK64_JOURNAL_MAX_BYTES:=262144}"
: "${RK64_BOOT_ID_FILE:=/proc/sys/kernel/random/boot_id}"
: "${RK64_INSTALL_CLAIM:=$RK64_RUN_DIR/install-claim}"
: "${RK64_HAWKBIT_PID_FILE:=$RK64_RUN_DIR/hawkbit-updater.pid}"

current_boot_id() {
  local id=''
  [[ -r $RK64_BOOT_ID_FILE ]] && IFS= read -r id <"$RK64_BOOT_ID_FILE"
  printf '%s' "$id"
}

journal_append_line() { # journal_append_line LINE
  local line=$1 size dir=.
  # dirname's answer without starting it (every event of every boot comes through here).
  [[ $RK64_JOURNAL != */* ]] || { dir=${RK64_JOURNAL%/*}; dir=${dir:-/}; }
  mkdir -p "$dir" || return 1
  (
    flock -w 10 9 || exit 1
    size=$(stat -c %s "$RK64_JOURNAL" 2>/dev/null || echo 0)
    if ((size > 0 && size + ${#line} + 1 > RK64_JOURNAL_MAX_BYTES)); then
      mv -f "$RK64_JOURNAL" "$RK64_JOURNAL.1" || exit 1
    fi
    # A torn last line (power cut mid-write) is closed first, so this line stays whole.
    if [[ -s $RK64_JOURNAL && $(tail -c 1 "$RK64_JOURNAL" | wc -l) -eq 0 ]]; then line=$'\n'$line; fi
    printf '%s\n' "$line" >>"$RK64_JOURNAL"
    # On disk before we go on: the boot that records itself may be the one the watchdog resets
    # a moment later, and f2fs keeps unsynced data in memory until its next checkpoint.
    sync -- "$RK64_JOURNAL" "$dir" || printf 'lifecycle journal: could not sync %s\n' "$RK64_JOURNAL" >&2
  ) 9>>"$RK64_JOURNAL.lock"
}

journal_event() { # journal_event EVENT [FIELDS-JSON]
  local line
  if ! line=$("$JQ" -nc --arg event "$1" --arg at "$(iso_now)" --arg boot "$(current_boot_id)" \
    --argjson fields "${2:-{\}}" \
    '{at: $at, event: $event, bootId: (if $boot == "" then null else $boot end)} + $fields' 2>/dev/null); then
    log "lifecycle journal: could not build the $1 event"
    return 0
  fi
  journal_append_line "$line" || log "lifecycle journal: could not append the $1 event to $RK64_JOURNAL"
  return 0
}

journal_read() {
  local part
  for part in "$RK64_JOURNAL.1" "$RK64_JOURNAL"; do
    [[ -r $part ]] && cat "$part"
  done
  return 0
}

rauc_slot_record() { # rauc_slot_record BOOTNAME: {"version","hash","primary"}, {} when unreadable
  local json
  json=$("$RAUC" status --detailed --output-format=json 2>/dev/null) || { echo '{}'; return 0; }
  "$JQ" -c --arg b "$1" '
    .boot_primary as $p
    | [.slots[] | to_entries[] | select(.value.class == "rootfs" and .value.bootname == $b)][0]
    | if . == null then {} else
        {version: (.value.slot_status.bundle.version // null),
         hash: (.value.slot_status.checksum.sha256 // null),
         primary: (.key == $p)} end' <<<"$json" 2>/dev/null || echo '{}'
}

# journal_install_finished SLOT SOURCE BY: "install-finished" with the version and image hash RAUC
# recorded for the slot, then "slot-activated" when RAUC made it the primary slot.
journal_install_finished() {
  local record
  record=$(rauc_slot_record "$1")
  journal_event install-finished "$("$JQ" -nc --arg slot "$1" --arg source "$2" --arg by "$3" --argjson r "$record" \
    '{slot: $slot, version: ($r.version // null), hash: ($r.hash // null),
      source: (if $source == "" then null else $source end), by: $by}')"
  if [[ $("$JQ" -r '.primary // false' <<<"$record" 2>/dev/null) == true ]]; then
    journal_event slot-activated "$("$JQ" -nc --arg slot "$1" --arg by "$3" '{slot: $slot, by: $by}')"
  fi
  return 0
}

# ---- installs RAUC runs for someone else -------------------------------------------------------
# rk64-action and os-upgrade journal their installs themselves (with the source and who asked),
# and hold a claim while `rauc install` runs: "PID BY" in $RK64_INSTALL_CLAIM. RAUC's pre- and
# post-install handlers (rauc/system.conf, [handlers]) journal every install nobody claimed: those
# of rauc-hawkbit-updater, which talks to RAUC over D-Bus, or of a `rauc install` typed by hand.
# A claim whose process has gone (killed mid-install) no longer counts.
# Like every journal write, a claim that cannot be made costs a log line (the handlers then journal
# the install a second time, as by rauc), never the install.
install_claim() { # install_claim BY
  { mkdir -p "$RK64_RUN_DIR" && printf '%s %s\n' "$$" "$1" >"$RK64_INSTALL_CLAIM"; } 2>/dev/null ||
    log "lifecycle journal: could not write $RK64_INSTALL_CLAIM"
  return 0
}

install_unclaim() { rm -f "$RK64_INSTALL_CLAIM" || true; }

live_pid_in() { # live_pid_in FILE: the file's first word is the PID of a running process
  local pid='' rest
  [[ -r $1 ]] || return 1
  read -r pid rest <"$1" || [[ -n $pid ]] || return 1
  [[ $pid =~ ^[1-9][0-9]{0,9}$ ]] && kill -0 "$pid" 2>/dev/null
}

# Who asked RAUC for the install it is running, when no rk64 program claimed it: hawkbit while
# rauc-hawkbit-updater runs (device-scripts/rootfs/hawkbit-updater writes its PID), rauc
# otherwise. Prints nothing for a claimed install.
unclaimed_installer() {
  live_pid_in "$RK64_INSTALL_CLAIM" && return 0
  if live_pid_in "$RK64_HAWKBIT_PID_FILE"; then printf hawkbit; else printf rauc; fi
}

# The rootfs slot RAUC writes, from the handler's environment (RAUC_TARGET_SLOTS and the
# RAUC_SLOT_CLASS_<n>, RAUC_SLOT_BOOTNAME_<n>, RAUC_IMAGE_DIGEST_<n> of each): sets TARGET_SLOT
# (its bootname) and TARGET_DIGEST (the sha256 of the image written to it, RAUC's slot checksum).
rauc_target_rootfs() {
  local n class bootname digest
  TARGET_SLOT='' TARGET_DIGEST=''
  for n in ${RAUC_TARGET_SLOTS:-}; do
    [[ $n =~ ^[0-9]+$ ]] || continue
    class=RAUC_SLOT_CLASS_$n bootname=RAUC_SLOT_BOOTNAME_$n digest=RAUC_IMAGE_DIGEST_$n
    if [[ ${!class:-} == rootfs ]]; then
      TARGET_SLOT=${!bootname:-} TARGET_DIGEST=${!digest:-}
      return 0
    fi
  done
}

# version= of the [update] section in the mounted bundle's manifest (RAUC_BUNDLE_MOUNT_POINT).
bundle_manifest_version() {
  local manifest=${RAUC_BUNDLE_MOUNT_POINT:-}/manifest.raucm line section=''
  [[ -n ${RAUC_BUNDLE_MOUNT_POINT:-} && -r $manifest ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    case $line in
      '['*']') section=$line ;;
      version=*) if [[ $section == '[update]' ]]; then printf '%s' "${line#version=}"; return 0; fi ;;
    esac
  done <"$manifest"
}

# The post-install handler runs after RAUC wrote and activated the slot (activate-installed is on,
# RAUC's default), while RAUC still serves the install: it answers no `rauc status` then, so
# everything comes from the handler's environment and the bundle.
journal_rauc_handler() { # journal_rauc_handler started|finished
  local by version fields
  by=$(unclaimed_installer)
  [[ -n $by ]] || return 0
  rauc_target_rootfs
  if [[ $TARGET_SLOT != A && $TARGET_SLOT != B ]]; then
    log "lifecycle journal: RAUC names no rootfs slot it writes (RAUC_TARGET_SLOTS='${RAUC_TARGET_SLOTS:-}')"
    return 0
  fi
  version=${RAUC_MF_VERSION:-$(bundle_manifest_version)}
  fields=$("$JQ" -nc --arg slot "$TARGET_SLOT" --arg version "$version" --arg hash "$TARGET_DIGEST" --arg by "$by" \
    '{slot: $slot, version: (if $version == "" then null else $version end),
      hash: (if $hash == "" then null else $hash end), source: null, by: $by}') || return 0
  case $1 in
    started) journal_event install-started "$fields" ;;
    finished)
      journal_event install-finished "$fields"
      journal_event slot-activated "$("$JQ" -c '{slot, by}' <<<"$fields")"
      ;;
  esac
  return 0
}
