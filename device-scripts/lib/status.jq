# rk64-status's parsers: each turns one collector's raw text (what rauc, fw_printenv, ip, dnsmasq,
# os-verification and openvpn wrote) into its piece of the status document (docs/status-schema.md).
# rk64-status runs them all in its one jq (jq -L <lib dir> 'include "status"; ...'): each jq start
# costs a Cortex-A53 tens of milliseconds (jq 1.6 under emulation: a quarter of a second), and
# the console runs rk64-status once per refresh. A parser that fails costs only its own piece.

# rauc 1.8 `status --detailed --output-format=json`:
# {"compatible","booted","boot_primary","slots":[{"rootfs.0":{..., "slot_status":{...}}}, ...]}
def rauc_doc:
  (.boot_primary // "") as $primary
  | (.slots // [] | map(to_entries[0])) as $slots
  | ($slots | map(select(.value.class == "rootfs" and (.value.bootname == "A" or .value.bootname == "B"))) | sort_by(.value.bootname)) as $roots
  | {
      compatible: (.compatible // null),
      bootedSlot: (if .booted == "A" or .booted == "B" then .booted else null end),
      primarySlot: ([$roots[] | select(.key == $primary) | .value.bootname][0] // null),
      slots: [$roots[] | . as $root | {
        bootname: .value.bootname,
        booted: (.value.state == "booted"),
        primary: (.key == $primary),
        bootStatus: (if .value.boot_status == "good" or .value.boot_status == "bad" then .value.boot_status else null end),
        bundleVersion: (.value.slot_status.bundle.version // null),
        installedAt: (.value.slot_status.installed.timestamp // null),
        devices: ({($root.key): $root.value.device}
          + ([$slots[] | select(.value.parent == $root.key) | {(.key): .value.device}] | add // {}))
      }]
    };

# fw_printenv's text. Same choice as the boot script: BOOT_ORDER defaults to "A B", unset counters
# count as 3, names other than A and B are skipped, the first slot with attempts left boots next.
def boot_state_doc($max):
  (split("\n") | map(select(test("^[A-Za-z_][A-Za-z0-9_]*=")) | capture("^(?<k>[^=]+)=(?<v>.*)$"))
    | map({(.k): .v}) | add // {}) as $env
  | def counter($name): ($env[$name] // null) as $v
      | if $v == null then null elif ($v | test("^[0-9]+$")) then ($v | tonumber) else null end;
  def effective($name): if $env[$name] == null then 3 else (counter($name) // 0) end;
  (($env.BOOT_ORDER // "A B") | split(" ") | map(select(. != ""))) as $order
  | {
      order: $order,
      attemptsLeft: {A: counter("BOOT_A_LEFT"), B: counter("BOOT_B_LEFT")},
      nextBootSlot: ([$order[] | select(. == "A" or . == "B") | select(effective("BOOT_\(.)_LEFT") > 0)][0] // null),
      breakGlass: (($env._RUT_OH_ // "") == "1"),
      maxAttempts: $max
    };

# `ip -j addr show`.
def links_doc:
  [.[] | select(.ifname != "lo") | {
    name: .ifname,
    role: (.ifname | if . == "eth0" then "wan" elif . == "eth1" then "lan" elif test("^tun") then "vpn"
           elif test("^wlan") then "wlan" else "other" end),
    state: ((.operstate // "unknown") | ascii_downcase),
    mac: (if .link_type == "ether" then .address else null end),
    addresses: [(.addr_info // [])[] | "\(.local)/\(.prefixlen)"]
  }];

# dnsmasq's lease file ("<expiry epoch|0> <mac> <ip> <hostname|*> <client-id|*>" per line) to
# {"leases": [...], "errors": [...]}: a line that is not a lease is skipped with an error, an
# expiry that is not a usable time is null with an error, a host name that is not one (RFC 1123
# labels) is null with an error.
def leases_doc($file):
  def hostname_ok: length <= 253
    and test("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$");
  def expiry: if . == "0" then null
    elif test("^[0-9]{1,11}$") and tonumber < 253402300800 then tonumber | todate else "bad" end;
  [split("\n") | to_entries[] | select(.value != "") | {n: (.key + 1), f: (.value | split(" "))}
    | if (.f | length) >= 4 and (.f[1] | test("^[0-9A-Fa-f:-]{1,64}$")) and (.f[2] | test("^[0-9A-Fa-f.:]{2,45}$"))
      then {line: .n, mac: .f[1], ip: .f[2], name: .f[3], expiry: (.f[0] | expiry)}
      else {line: .n, skip: true} end] as $rows
  | [$rows[] | select(.skip | not)] as $ok
  | {leases: [$ok[] | {mac, ip,
       hostname: (if .name == "*" or (.name | hostname_ok | not) then null else .name end),
       expiresAt: (if .expiry == "bad" then null else .expiry end)}],
     errors: ([$rows[] | select(.skip) | {field: "leases", reason: "line \(.line) of \($file) is not a dnsmasq lease: skipped"}]
       + [$ok | to_entries[] | select(.value.expiry == "bad")
           | {field: "leases[\(.key)].expiresAt", reason: "the lease expiry is not a usable time"}]
       + [$ok | to_entries[] | select(.value.name != "*" and (.value.name | hostname_ok | not))
           | {field: "leases[\(.key)].hostname", reason: "the DHCP client sent something that is not a host name"}])};

# os-verification's health.json; anything else is an error.
def health_doc:
  if (.state == "running" or .state == "passed" or .state == "failed" or .state == "skipped")
  then {state, updatedAt: (.updatedAt // null), detail: (.detail // null)}
  else error("not a health state") end;

# openvpn's status file (--status-version 3: tab-separated, columns named by its HEADER line) to
# the connected clients. Names and addresses are the peer's: the console makes them printable; a
# connection time that is not one is null (the client is still listed).
def vpn_clients:
  [split("\n")[] | split("\t")] as $rows
  | ([$rows[] | select(.[0] == "HEADER" and .[1] == "CLIENT_LIST") | .[2:]][0] // []) as $head
  | ($head | index("Common Name")) as $cn | ($head | index("Real Address")) as $real
  | ($head | index("Connected Since (time_t)")) as $since
  | [$rows[] | select(.[0] == "CLIENT_LIST") | .[1:]
     | {commonName: (if $cn == null then null else .[$cn] end),
        realAddress: (if $real == null then null else .[$real] end),
        connectedSince: (if $since == null then null else ((.[$since] | tonumber? | todate) // null) end)}];

# "name=value" lines to an object; an empty value is null.
def fields: split("\n") | map(select(contains("=")) | capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): (if .v == "" then null else .v end)}) | add // {};

# systemd time span to seconds ("infinity" and "0" mean off).
def seconds: if . == null then null elif . == "infinity" then 0 elif test("^[0-9]+$") then tonumber / 1000000
  else [scan("([0-9.]+)\\s*(us|ms|s|min|h|d)") | (.[0] | tonumber) * ({"us": 0.000001, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}[.[1]])] | add end;
