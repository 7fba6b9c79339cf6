// The status document printed by `rk64-status` on the gateway (device-scripts/rootfs/rk64-status).
// Versioned: `schema` changes its number when a field changes meaning or is removed; new optional
// fields may appear within a version. Documented in docs/status-schema.md. Every field the
// gateway could not read is null, with an entry in `errors` saying which and why.

export const STATUS_SCHEMA = 'rk64.status/1';

export type SlotName = 'A' | 'B';

export interface StatusError {
  /** Dotted path of the field that is null because of this error, e.g. `watchdog` or `bootState`. */
  field: string;
  reason: string;
}

export interface SlotStatus {
  /** RAUC bootname: the name U-Boot's BOOT_ORDER uses. */
  bootname: SlotName;
  booted: boolean;
  /** The slot the boot loader will try first. */
  primary: boolean;
  /** RAUC boot status of the rootfs slot. */
  bootStatus: 'good' | 'bad' | null;
  /** Version from the bundle that was last installed into this slot, null when unknown. */
  bundleVersion: string | null;
  installedAt: string | null;
  /** RAUC slot name → device, e.g. { "rootfs.0": "/dev/disk/by-partlabel/rootfs-a", "boot.0": ... }. */
  devices: Record<string, string>;
}

export interface RaucStatus {
  compatible: string | null;
  bootedSlot: SlotName | null;
  primarySlot: SlotName | null;
  slots: SlotStatus[];
}

export interface BootState {
  /** BOOT_ORDER split on spaces, as stored (may include names the boot script skips). */
  order: string[];
  /** BOOT_A_LEFT / BOOT_B_LEFT; null when the variable is unset or not a number. */
  attemptsLeft: Record<SlotName, number | null>;
  /** The slot the boot script will pick next, or null when every counter is 0. */
  nextBootSlot: SlotName | null;
  /** `_RUT_OH_` is 1: the next boot starts a root autologin on the serial console. */
  breakGlass: boolean;
  /**
   * The boot attempts a slot gets back when it is marked good: RAUC's `boot-attempts` in its
   * system.conf. Null when not set there or not reported (a gateway older than this field).
   */
  maxAttempts: number | null;
}

export interface WatchdogStatus {
  device: string | null;
  identity: string | null;
  timeoutSeconds: number | null;
  /** systemd's RuntimeWatchdogUSec, in seconds; 0 means systemd does not feed it. */
  runtimeWatchdogSeconds: number | null;
  /** True when systemd is feeding the hardware watchdog. */
  active: boolean;
}

export type LinkRole = 'wan' | 'lan' | 'vpn' | 'wlan' | 'other';

export interface LinkStatus {
  name: string;
  role: LinkRole;
  /** Operational state from the kernel: up, down, dormant, unknown, ... */
  state: string;
  mac: string | null;
  /** CIDR notation, e.g. 172.20.30.1/24. */
  addresses: string[];
}

export interface DhcpLease {
  mac: string;
  ip: string;
  hostname: string | null;
  /** ISO 8601; null for infinite leases. */
  expiresAt: string | null;
}

export interface SshOnWanStatus {
  /** The flag file /data/config/ssh-wan-enabled exists. */
  enabled: boolean;
  /** The loaded firewall ruleset currently accepts tcp/22 on the WAN; null when unreadable. */
  firewallAllows: boolean | null;
  /**
   * When the gateway closes SSH on the WAN by itself (`rk64-action ssh-wan on --for`, ISO 8601 UTC
   * by the gateway's clock); null when closed, open without a deadline, or not reported.
   */
  expiresAt: string | null;
  /**
   * The WAN interface SSH on WAN opens (the Name= of the gateway's WAN .network, as rk64-action
   * uses it); null when the gateway cannot tell or does not report it.
   */
  wanInterface: string | null;
}

export type HealthState = 'not-run' | 'running' | 'passed' | 'failed' | 'skipped';

export interface HealthStatus {
  state: HealthState;
  /** ISO 8601 time of the last state change, when known. */
  updatedAt: string | null;
  detail: string | null;
}

export interface Versions {
  /** The root file system's version (os-release VERSION_ID or IMAGE_VERSION). */
  os: string | null;
  /** Bundle version of the booted slot. */
  bundle: string | null;
  kernel: string | null;
  /** Version of the device scripts that printed this document. */
  rk64: string | null;
}

export interface GatewayStatus {
  schema: typeof STATUS_SCHEMA;
  /** ISO 8601, gateway clock. */
  collectedAt: string;
  hostname: string | null;
  uptimeSeconds: number | null;
  versions: Versions;
  rauc: RaucStatus | null;
  bootState: BootState | null;
  watchdog: WatchdogStatus | null;
  links: LinkStatus[] | null;
  leases: DhcpLease[] | null;
  sshOnWan: SshOnWanStatus | null;
  health: HealthStatus | null;
  firstBootCompleted: boolean | null;
  errors: StatusError[];
}
