# shellcheck shell=bash
# The lifecycle journal: what happened to each slot, one JSON object per line, in
# $RK64_JOURNAL (docs/boot.md, "Lifecycle journal"). Sourced by lib/common.sh.
#   journal_event EVENT [FIELDS-JSON]  append {"at","event","bootId",...FIELDS} as one line
#   journal_read                       the journal's lines, oldest first (rotated part first)
#   rauc_slot_record BOOTNAME          {"version","hash","primary"} of a rootfs slot from rauc status
# Appending never fails the caller: a journal that cannot be written costs a log line only.
# One line is built by jq, then written with one write(2) while holding a flock, so two writers
# never interleave and a power cut leaves at most a torn last line, which readers skip; each line
# is synced to disk before the caller goes on. At
# $RK64_JOURNAL_MAX_BYTES the file is renamed to $RK64_JOURNAL.1 (replacing the older part).
# Variables: RK64_JOURNAL ($RK64_STATE_DIR/lifecycle.jsonl), RK64_JOURNAL_MAX_BYTES (262144),
#   RK64_BOOT_ID_FILE (/proc/sys/kernel/random/boot_id).

: "${RK64_JOURNAL:=$RK64_STATE_DIR/lifecycle.jsonl}"
: "${RK64_JOURNAL_MAX_BYTES:=262144}"
: "${RK64_BOOT_ID_FILE:=/proc/sys/kernel/random/boot_id}"

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
         hash: (.value.slot_status.checksum.digest // null),
         primary: (.key == $p)} end' <<<"$json" 2>/dev/null || echo '{}'
}

# journal_install_finished SLOT SOURCE BY: "install-finished" with the version and image hash RAUC
# recorded for the slot, then "slot-activated" when RAUC made it the primary slot.
journal_install_finished() {
  local record
  record=$(rauc_slot_record "$1")
  journal_event install-finished "$("$JQ" -nc --arg slot "$1" --arg source "$2" --arg by "$3" --argjson r "$record" \
    '{slot: $slot, version: ($r.version // null), hash: ($r.hash // null), source: $source, by: $by}')"
  if [[ $("$JQ" -r '.primary // false' <<<"$record" 2>/dev/null) == true ]]; then
    journal_event slot-activated "$("$JQ" -nc --arg slot "$1" --arg by "$3" '{slot: $slot, by: $by}')"
  fi
  return 0
}
