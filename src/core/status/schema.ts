// The status document printed by `rk64-status` on the gateway (device-scripts/rootfs/rk64-status),
// declared once: the TypeScript type (GatewayStatus), the reader (validate.ts) and the field
// table of docs/status-schema.md (scripts/gen-status-docs) all come from STATUS_FIELDS.
//
// Versioned: `schema` changes its number when a field changes meaning or is removed; new fields
// may appear within a version and are declared optional, so a console that knows them still
// reads a gateway that does not print them yet (as null, "not reported by this gateway").
// Every field the gateway could not read is null, with an entry in `errors` saying which and why.
import {
  arrayOf,
  boolean,
  count,
  literal,
  number,
  object,
  oneOf,
  recordOf,
  string,
  type Infer,
  type InferFields,
} from './declare.js';

export const STATUS_SCHEMA = 'rk64.status/1';

const slotName = oneOf('A', 'B');

/** Lifecycle states of a slot, in the order an update walks them (docs/boot.md, "Lifecycle journal"). */
export const LIFECYCLE_STATES = [
  'empty',
  'installed',
  'trying',
  'booted',
  'health-checking',
  'good',
  'fell-back',
  'bad',
] as const;

const lifecycle = object({
  state: {
    type: oneOf(...LIFECYCLE_STATES),
    required: true,
    doc: '`empty`: never written (and not booted); `installed`: a bundle was written; `trying`: booted on trial, attempt `attempt` of `maxAttempts`; `booted`: that trial boot reached multi-user.target; `health-checking`: os-verification is checking it; `good`: the health check passed or it was marked good; `fell-back`: its boot attempts ran out and the other slot booted; `bad`: the health check failed, the install failed, or it was marked bad.',
  },
  reason: { type: string, nullable: true, doc: 'One line: why it is in this state.' },
  since: {
    type: string,
    nullable: true,
    doc: "When it entered the state (the journal event's time, ISO 8601 UTC, gateway clock).",
    nullMeans: 'from RAUC, not from the journal',
  },
  attempt: {
    type: count,
    nullable: true,
    doc: '`trying`: which attempt this is (`maxAttempts` − attempts left when it booted).',
  },
  maxAttempts: { type: count, nullable: true, doc: '`trying`: the attempts a trial gets.' },
});

/** One event of the lifecycle journal, as rk64-status prints it (every declared field present). */
const historyEvent = object({
  at: { type: string, required: true, doc: 'When (ISO 8601 UTC, gateway clock).' },
  event: {
    type: string,
    required: true,
    doc: 'What: `install-started`, `install-finished`, `install-failed`, `slot-activated`, `boot`, `up` (the boot reached multi-user.target), `health` (os-verification), `marked` (good or bad), `fell-back`. Other names are kept and shown as they are.',
  },
  slot: {
    type: slotName,
    nullable: true,
    required: true,
    doc: 'The slot it is about (`boot`, `up`: the booted slot).',
  },
  bootId: {
    type: string,
    nullable: true,
    required: true,
    doc: 'The boot it happened in (`/proc/sys/kernel/random/boot_id`).',
  },
  by: {
    type: string,
    nullable: true,
    required: true,
    doc: 'Who: `console` (rk64-action), `os-upgrade`, `hawkbit` (rauc-hawkbit-updater), `rauc` (another RAUC client), `os-verification`, `first-boot`.',
  },
  version: { type: string, nullable: true, required: true, doc: 'Install events: the bundle version.' },
  hash: {
    type: string,
    nullable: true,
    required: true,
    doc: "Install events: the bundle's sha256 (`install-started` by os-upgrade) or the root image's written to the slot (every `install-finished`; `install-started` by hawkbit or rauc).",
  },
  source: { type: string, nullable: true, required: true, doc: 'Install events: the URL or file installed.' },
  reason: { type: string, nullable: true, required: true, doc: '`install-failed`: why.' },
  verdict: {
    type: string,
    nullable: true,
    required: true,
    doc: '`health`: `running`, `passed` or `failed`; `marked`: `good` or `bad`.',
  },
  check: {
    type: string,
    nullable: true,
    required: true,
    doc: '`health` failed: the first check that failed.',
  },
  detail: {
    type: string,
    nullable: true,
    required: true,
    doc: '`health` failed: every failed check and what it saw.',
  },
  attemptsLeft: {
    type: count,
    nullable: true,
    required: true,
    doc: "`boot`: the booted slot's attempts left as the boot script left them.",
  },
  maxAttempts: {
    type: count,
    nullable: true,
    required: true,
    doc: "`boot`, `fell-back`: RAUC's `boot-attempts`.",
  },
  previousBootEnded: {
    type: oneOf('clean', 'watchdog', 'unknown'),
    nullable: true,
    required: true,
    doc: "`boot`: how the boot before it ended: `clean` (shut down in order), `watchdog` (the watchdog driver's bootstatus reports a reset by the watchdog), `unknown` (power loss, or a hang the driver cannot report).",
  },
  to: { type: slotName, nullable: true, required: true, doc: '`fell-back`: the slot that booted instead.' },
  boots: {
    type: count,
    nullable: true,
    required: true,
    doc: "`fell-back`: the slot's boots recorded since it was installed (each reached user space).",
  },
  bootsReachedUserSpace: {
    type: count,
    nullable: true,
    required: true,
    doc: '`fell-back`: of those, the boots that reached multi-user.target.',
  },
});

const slot = object({
  bootname: {
    type: slotName,
    required: true,
    doc: "RAUC slot `bootname`: the name U-Boot's `BOOT_ORDER` uses.",
  },
  booted: { type: boolean, required: true, doc: "The slot's `state` is `booted`." },
  primary: {
    type: boolean,
    required: true,
    doc: "The slot is RAUC's `boot_primary`: the boot loader tries it first.",
  },
  bootStatus: {
    type: oneOf('good', 'bad'),
    nullable: true,
    doc: 'RAUC boot status of the rootfs slot (`boot_status`).',
  },
  bundleVersion: {
    type: string,
    nullable: true,
    doc: 'Version of the bundle last installed into this slot (`slot_status.bundle.version`).',
    nullMeans: 'unknown',
  },
  installedAt: {
    type: string,
    nullable: true,
    doc: 'When it was installed (`slot_status.installed.timestamp`).',
  },
  devices: {
    type: recordOf(string),
    required: true,
    doc: 'RAUC slot name → device, the slot and its children (`parent`): `{"rootfs.0": device, "boot.0": device}`.',
  },
  lifecycle: {
    type: lifecycle,
    nullable: true,
    doc: "Where the slot is in its update's lifecycle, from the lifecycle journal `$RK64_JOURNAL` (`/data/rk64/lifecycle.jsonl`); without a journal entry for the slot: `empty` when RAUC never wrote it and it is not booted, else RAUC's `boot_status`.",
    nullMeans: 'neither the journal nor RAUC tells',
  },
});

const link = object({
  name: { type: string, required: true, doc: '`ifname`.' },
  role: {
    type: oneOf('wan', 'lan', 'vpn', 'wlan', 'other'),
    required: true,
    doc: 'eth0 wan, eth1 lan, tun* vpn, wlan* wlan, anything else other.',
  },
  state: {
    type: string,
    required: true,
    doc: 'Lower-cased kernel `operstate`: up, down, dormant, unknown, …',
  },
  mac: { type: string, nullable: true, doc: '`address`, for ethernet links only.' },
  addresses: { type: arrayOf(string), required: true, doc: '`local/prefixlen` of every address (CIDR).' },
});

const lease = object({
  mac: { type: string, required: true, doc: 'Client MAC address.' },
  ip: { type: string, required: true, doc: 'Leased address.' },
  hostname: {
    type: string,
    nullable: true,
    doc: 'Host name the client sent.',
    nullMeans: '`*` in the lease file, or not a host name (with an error)',
  },
  expiresAt: {
    type: string,
    nullable: true,
    doc: 'When the lease ends (ISO 8601 UTC).',
    nullMeans: 'an infinite lease, or an unusable expiry (with an error)',
  },
});

const vpnClient = object({
  commonName: {
    type: string,
    nullable: true,
    doc: "The client certificate's common name (the NOC user `make-vpn client --user` named).",
  },
  realAddress: {
    type: string,
    nullable: true,
    doc: 'Where the client connects from, `address:port`, as the server sees it.',
  },
  connectedSince: { type: string, nullable: true, doc: 'When it connected (ISO 8601 UTC, gateway clock).' },
});

const errorEntry = object({
  field: {
    type: string,
    required: true,
    doc: 'Dotted path of the field that is null because of it, e.g. `watchdog`.',
  },
  reason: { type: string, required: true, doc: 'One line: why.' },
});

export const STATUS_FIELDS = {
  schema: { type: literal(STATUS_SCHEMA), required: true, doc: 'The schema and its version.' },
  collectedAt: {
    type: string,
    required: true,
    doc: 'When the document was made (ISO 8601 UTC, gateway clock).',
  },
  hostname: { type: string, nullable: true, doc: '`/proc/sys/kernel/hostname`.' },
  uptimeSeconds: { type: number, nullable: true, doc: '`/proc/uptime`, whole seconds.' },
  versions: {
    type: object({
      os: { type: string, nullable: true, doc: 'os-release `IMAGE_VERSION`, else `VERSION_ID`.' },
      bundle: { type: string, nullable: true, doc: 'Bundle version of the booted slot (from rauc).' },
      kernel: { type: string, nullable: true, doc: '`uname -r`.' },
      rk64: {
        type: string,
        nullable: true,
        doc: 'Version of the device scripts that printed this document: first line of `$RK64_VERSION_FILE` (`/usr/lib/rk64/VERSION`).',
      },
    }),
    missing: 'empty',
    doc: 'Versions of what runs.',
  },
  rauc: {
    type: object({
      compatible: { type: string, nullable: true, doc: 'RAUC `compatible`.' },
      bootedSlot: { type: slotName, nullable: true, doc: 'Bootname of the `booted` slot.' },
      primarySlot: { type: slotName, nullable: true, doc: 'Bootname of the slot named in `boot_primary`.' },
      slots: {
        type: arrayOf(slot),
        required: true,
        doc: 'One per `rootfs.N` slot with bootname A or B, sorted by bootname.',
      },
    }),
    nullable: true,
    doc: '`rauc status --detailed --output-format=json` (rauc 1.8).',
  },
  bootState: {
    type: object({
      order: {
        type: arrayOf(string),
        required: true,
        doc: '`BOOT_ORDER` split on spaces, as stored (may name slots the boot script skips; `A B` when unset, like the boot script).',
      },
      attemptsLeft: {
        type: object({
          A: { type: count, nullable: true, doc: '`BOOT_A_LEFT`.', nullMeans: 'unset or not a number' },
          B: { type: count, nullable: true, doc: '`BOOT_B_LEFT`.', nullMeans: 'unset or not a number' },
        }),
        required: true,
        doc: 'Boot attempts left per slot.',
      },
      nextBootSlot: {
        type: slotName,
        nullable: true,
        doc: 'The first name in the order that is A or B and has attempts left (unset counts as the maximum, non-numbers as 0).',
        nullMeans: 'every counter is 0',
      },
      breakGlass: {
        type: boolean,
        required: true,
        doc: '`_RUT_OH_` is `1`: the next boot starts a root autologin on the serial console.',
      },
      maxAttempts: {
        type: count,
        nullable: true,
        doc: "The boot attempts a slot gets back when it is marked good: RAUC's `boot-attempts` in the `[system]` section of its system.conf.",
        nullMeans: 'not set in system.conf',
      },
    }),
    nullable: true,
    doc: '`fw_printenv` (with `-c $FW_ENV_CONFIG` when set).',
  },
  watchdog: {
    type: object({
      device: { type: string, nullable: true, doc: 'The first `$SYS_CLASS_DIR/watchdog/watchdogN`.' },
      identity: { type: string, nullable: true, doc: 'Its `identity`.' },
      timeoutSeconds: { type: number, nullable: true, doc: 'Its `timeout`.' },
      runtimeWatchdogSeconds: {
        type: number,
        nullable: true,
        doc: '`systemctl show -p RuntimeWatchdogUSec --value` in seconds (`30s`, `1min`, …; `infinity` → 0); 0: systemd does not feed it.',
      },
      active: { type: boolean, required: true, doc: 'A device exists and systemd feeds it (runtime > 0).' },
    }),
    nullable: true,
    doc: 'The hardware watchdog.',
  },
  links: { type: arrayOf(link), nullable: true, doc: '`ip -j addr show`, without `lo`.' },
  leases: {
    type: arrayOf(lease),
    nullable: true,
    doc: 'The dnsmasq lease file `$RK64_LEASES_FILE`.',
  },
  sshOnWan: {
    type: object({
      enabled: {
        type: boolean,
        required: true,
        doc: 'The flag file `$RK64_CONFIG_DIR/ssh-wan-enabled` exists.',
      },
      firewallAllows: {
        type: boolean,
        nullable: true,
        doc: '`nft list chain inet rk64 input_wan` holds `comment "rk64-ssh-wan"`: the loaded ruleset accepts tcp/22 on the WAN.',
        nullMeans: 'unreadable',
      },
      expiresAt: {
        type: string,
        nullable: true,
        doc: "When the gateway closes SSH on the WAN by itself (`rk64-action ssh-wan on --for DURATION`, ISO 8601 UTC, the gateway's clock). The console shows the time left as `expiresAt − collectedAt`, both from the gateway.",
        nullMeans: 'closed, or open without a deadline',
      },
      wanInterface: {
        type: string,
        nullable: true,
        doc: "The WAN interface SSH on the WAN opens: `Name=` of the gateway's WAN `.network`, as `rk64-action` uses it.",
        nullMeans: 'the gateway cannot tell',
      },
    }),
    nullable: true,
    doc: 'SSH on the WAN port.',
  },
  health: {
    type: object({
      state: {
        type: oneOf('not-run', 'running', 'passed', 'failed', 'skipped'),
        required: true,
        doc: 'The os-verification health check.',
      },
      updatedAt: { type: string, nullable: true, doc: 'Time of the last state change, when known.' },
      detail: { type: string, nullable: true, doc: 'One line from the check.' },
    }),
    nullable: true,
    doc: '`$RK64_RUN_DIR/health.json`; `{"state":"not-run",…}` when the file does not exist; null (with an error) when invalid.',
  },
  firstBootCompleted: {
    type: boolean,
    nullable: true,
    doc: '`$RK64_DATA/.completed_first_boot` exists.',
    nullMeans: '`$RK64_DATA` is missing',
  },
  history: {
    type: arrayOf(historyEvent),
    missing: 'empty',
    doc: 'With `rk64-status --history N` (or `all`): the last N events of the lifecycle journal, oldest first. A line of the journal that is not an event (a torn last line) is skipped.',
  },
  vpn: {
    type: object({
      state: {
        type: oneOf('not-configured', 'stopped', 'running', 'failed'),
        required: true,
        doc: 'not-configured: no `$RK64_CONFIG_DIR/openvpn/server.conf` (the unit is skipped); otherwise the state of `openvpn-recovery.service` (`failed` also while systemd waits to restart it).',
      },
      reason: {
        type: string,
        nullable: true,
        doc: 'Why it is not running, one line.',
        nullMeans: 'running',
      },
      clients: {
        type: arrayOf(vpnClient),
        nullable: true,
        doc: "Connected clients, from openvpn's status file `$RK64_VPN_RUN_DIR/status` (rewritten every 2 s); empty unless running.",
        nullMeans: 'the status file is unreadable (with an error)',
      },
    }),
    nullable: true,
    doc: 'The OpenVPN recovery server (udp/1194 on the WAN, 10.8.0.1 on tun0; docs/remote-access.md).',
  },
  errors: {
    type: arrayOf(errorEntry),
    missing: 'empty',
    doc: 'Why a field above is null: one entry per field the gateway could not read.',
  },
} as const;

export type GatewayStatus = InferFields<typeof STATUS_FIELDS>;
export type SlotName = NonNullable<Infer<typeof slotName>>;
export type RaucStatus = NonNullable<GatewayStatus['rauc']>;
export type SlotStatus = RaucStatus['slots'][number];
export type BootState = NonNullable<GatewayStatus['bootState']>;
export type WatchdogStatus = NonNullable<GatewayStatus['watchdog']>;
export type LinkStatus = NonNullable<GatewayStatus['links']>[number];
export type LinkRole = NonNullable<LinkStatus['role']>;
export type DhcpLease = NonNullable<GatewayStatus['leases']>[number];
export type SshOnWanStatus = NonNullable<GatewayStatus['sshOnWan']>;
export type HealthStatus = NonNullable<GatewayStatus['health']>;
export type HealthState = NonNullable<HealthStatus['state']>;
export type Versions = GatewayStatus['versions'];
export type VpnStatus = NonNullable<GatewayStatus['vpn']>;
export type VpnClient = NonNullable<VpnStatus['clients']>[number];
export type StatusError = GatewayStatus['errors'][number];
export type SlotLifecycle = NonNullable<SlotStatus['lifecycle']>;
export type LifecycleState = NonNullable<SlotLifecycle['state']>;
export type HistoryEvent = GatewayStatus['history'][number];
