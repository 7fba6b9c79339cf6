# The lifecycle journal's reader and each slot's lifecycle state (docs/boot.md, "Lifecycle
# journal"). rk64-status includes it (jq -L <lib dir> 'include "lifecycle"; ...').

# The journal's text (the rotated part, then the current file) to its events, oldest first. A line
# that is not a JSON object with a string "at" and "event" (a torn last line after a power cut,
# anything else) is skipped; events of kinds this reader does not know are kept.
def journal_events:
  split("\n") | map(fromjson? | select(type == "object" and (.at | type) == "string" and (.event | type) == "string"));

def _count: if type == "number" and . >= 0 and . == floor then . else null end;

# One slot's lifecycle from the events, oldest first: {state, reason, since, attempt, maxAttempts},
# or null when no event names the slot. States: installed, trying (attempt of maxAttempts), booted
# (reached multi-user.target), health-checking, good, fell-back, bad. A boot of a slot whose state
# is unknown or good does not put it on trial: only an installation does.
def slot_lifecycle($slot):
  reduce (.[] | select(.slot == $slot)) as $e (null;
    ($e.at) as $at
    | if $e.event == "install-finished" then
        {state: "installed", reason: "version \($e.version // "?") installed by \($e.by // "?")", since: $at}
      elif $e.event == "install-failed" then
        {state: "bad", reason: "install failed: \($e.reason // "no reason recorded")", since: $at}
      elif $e.event == "boot" then
        if . == null or .state == "good" then (. // {state: "booted", reason: "booted", since: $at})
        else ($e.maxAttempts | _count) as $max | ($e.attemptsLeft | _count) as $left
          | {state: "trying", reason: "boot \(.bootCount + 1) since it was installed", since: $at,
             attempt: (if $max != null and $left != null and $max >= $left then $max - $left else null end),
             maxAttempts: $max, bootCount: ((.bootCount // 0) + 1), bootId: $e.bootId}
        end
      elif $e.event == "up" then
        if . != null and .state == "trying" and .bootId == $e.bootId then
          . + {state: "booted", reason: "reached multi-user.target", since: $at}
        else . end
      elif $e.event == "health" then
        if $e.verdict == "running" and (. == null or .state != "good") then
          (. // {}) + {state: "health-checking", reason: "os-verification is checking it", since: $at}
        elif $e.verdict == "failed" then
          (. // {}) + {state: "bad", reason: "health check failed: \($e.detail // $e.check // "no detail")", since: $at}
        elif $e.verdict == "passed" then
          {state: "good", reason: "health check passed", since: $at}
        else . end
      elif $e.event == "marked" and ($e.verdict == "good" or $e.verdict == "bad") then
        {state: $e.verdict, reason: "marked \($e.verdict) by \($e.by // "?")", since: $at}
      elif $e.event == "fell-back" then
        {state: "fell-back", since: $at,
         reason: "its \($e.maxAttempts // "?") boot attempts ran out; \($e.bootsReachedUserSpace // "?") of \($e.boots // "?") boots reached multi-user.target; \($e.to // "the other slot") booted instead"}
      else . end)
  | if . == null then null else {state, reason, since, attempt: (.attempt // null), maxAttempts: (.maxAttempts // null)} end;

# A slot's lifecycle for the status document: from the journal, else from RAUC's view of the slot
# ($rauc: the status document's slot object): never written and not booted is "empty".
def lifecycle_of($rauc):
  slot_lifecycle($rauc.bootname) as $l
  | if $l != null then $l
    elif ($rauc.booted | not) and $rauc.installedAt == null then
      {state: "empty", reason: "never written", since: null, attempt: null, maxAttempts: null}
    elif $rauc.bootStatus == "good" or $rauc.bootStatus == "bad" then
      {state: $rauc.bootStatus, reason: "RAUC reports it \($rauc.bootStatus); the journal has no entry for it", since: null, attempt: null, maxAttempts: null}
    else null end;

# An event as the status document's history holds it (src/core/status/schema.ts): every declared
# field present, null when absent or of the wrong type; other fields kept as they are.
def history_event:
  def str: if type == "string" then . else null end;
  def slotname: if . == "A" or . == "B" then . else null end;
  def cnt: _count;
  . + {
    slot: (.slot | slotname), to: (.to | slotname),
    bootId: (.bootId | str), by: (.by | str), version: (.version | str), hash: (.hash | str),
    source: (.source | str), reason: (.reason | str), verdict: (.verdict | str), check: (.check | str),
    detail: (.detail | str),
    attemptsLeft: (.attemptsLeft | cnt), maxAttempts: (.maxAttempts | cnt), boots: (.boots | cnt),
    bootsReachedUserSpace: (.bootsReachedUserSpace | cnt),
    previousBootEnded: (.previousBootEnded | if . == null then null else str end)
  };
