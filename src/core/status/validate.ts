// Check a status document from a gateway against the rk64.status/1 schema (schema.ts), by hand,
// field by field, so a wrong document gets one message naming the field.
//
// One console reads gateways one version older and newer (docs/status-schema.md): within
// rk64.status/1 fields are only ever added, so a field this console knows but the document lacks
// (an older gateway) reads as null, or [] for `errors`; only `schema` and `collectedAt` must be
// there. Fields this console does not know (a newer gateway) are kept as they are, at every
// level, so `--json` passes them on.
import { Rk64Error } from '../errors.js';
import type {
  BootState,
  DhcpLease,
  GatewayStatus,
  HealthStatus,
  HealthState,
  LinkRole,
  LinkStatus,
  RaucStatus,
  SlotName,
  SlotStatus,
  SshOnWanStatus,
  StatusError,
  Versions,
  WatchdogStatus,
} from './schema.js';
import { STATUS_SCHEMA } from './schema.js';

type Obj = Record<string, unknown>;

class Invalid extends Error {}

function fail(path: string, expected: string, value: unknown): never {
  const shown = value === undefined ? 'missing' : JSON.stringify(value);
  throw new Invalid(
    `${path}: expected ${expected}, got ${shown && shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}`,
  );
}

function obj(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  return value as Obj;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
  return value;
}

function num(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a number', value);
  return value;
}

function arr<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(value)) fail(path, 'an array', value);
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

/** null, or missing (a field newer than the gateway that printed the document): null. */
function nullable<T>(value: unknown, path: string, read: (v: unknown, p: string) => T): T | null {
  return value === null || value === undefined ? null : read(value, path);
}

/** The known fields read, on top of the object as it came: unknown fields stay. */
function keep<T extends object>(o: Obj, known: T): T {
  return { ...o, ...known };
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: unknown, path: string): T => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      fail(path, `one of ${allowed.join(', ')}`, value);
    }
    return value as T;
  };
}

const slotName = oneOf<SlotName>(['A', 'B']);
const linkRole = oneOf<LinkRole>(['wan', 'lan', 'vpn', 'wlan', 'other']);
const healthState = oneOf<HealthState>(['not-run', 'running', 'passed', 'failed', 'skipped']);
const bootStatus = oneOf<'good' | 'bad'>(['good', 'bad']);

function versions(value: unknown, path: string): Versions {
  const o = obj(value, path);
  return keep(o, {
    os: nullable(o.os, `${path}.os`, str),
    bundle: nullable(o.bundle, `${path}.bundle`, str),
    kernel: nullable(o.kernel, `${path}.kernel`, str),
    rk64: nullable(o.rk64, `${path}.rk64`, str),
  });
}

function slot(value: unknown, path: string): SlotStatus {
  const o = obj(value, path);
  const devicesObj = obj(o.devices, `${path}.devices`);
  const devices: Record<string, string> = {};
  for (const [k, v] of Object.entries(devicesObj)) devices[k] = str(v, `${path}.devices.${k}`);
  return keep(o, {
    bootname: slotName(o.bootname, `${path}.bootname`),
    booted: bool(o.booted, `${path}.booted`),
    primary: bool(o.primary, `${path}.primary`),
    bootStatus: nullable(o.bootStatus, `${path}.bootStatus`, bootStatus),
    bundleVersion: nullable(o.bundleVersion, `${path}.bundleVersion`, str),
    installedAt: nullable(o.installedAt, `${path}.installedAt`, str),
    devices,
  });
}

function rauc(value: unknown, path: string): RaucStatus {
  const o = obj(value, path);
  return keep(o, {
    compatible: nullable(o.compatible, `${path}.compatible`, str),
    bootedSlot: nullable(o.bootedSlot, `${path}.bootedSlot`, slotName),
    primarySlot: nullable(o.primarySlot, `${path}.primarySlot`, slotName),
    slots: arr(o.slots, `${path}.slots`, slot),
  });
}

function counter(value: unknown, path: string): number | null {
  const n = nullable(value, path, num);
  if (n !== null && (!Number.isInteger(n) || n < 0)) fail(path, 'a whole number ≥ 0 or null', value);
  return n;
}

function bootState(value: unknown, path: string): BootState {
  const o = obj(value, path);
  const left = obj(o.attemptsLeft, `${path}.attemptsLeft`);
  return keep(o, {
    order: arr(o.order, `${path}.order`, str),
    attemptsLeft: {
      A: counter(left.A, `${path}.attemptsLeft.A`),
      B: counter(left.B, `${path}.attemptsLeft.B`),
    },
    nextBootSlot: nullable(o.nextBootSlot, `${path}.nextBootSlot`, slotName),
    breakGlass: bool(o.breakGlass, `${path}.breakGlass`),
    maxAttempts: counter(o.maxAttempts, `${path}.maxAttempts`),
  });
}

function watchdog(value: unknown, path: string): WatchdogStatus {
  const o = obj(value, path);
  return keep(o, {
    device: nullable(o.device, `${path}.device`, str),
    identity: nullable(o.identity, `${path}.identity`, str),
    timeoutSeconds: nullable(o.timeoutSeconds, `${path}.timeoutSeconds`, num),
    runtimeWatchdogSeconds: nullable(o.runtimeWatchdogSeconds, `${path}.runtimeWatchdogSeconds`, num),
    active: bool(o.active, `${path}.active`),
  });
}

function link(value: unknown, path: string): LinkStatus {
  const o = obj(value, path);
  return keep(o, {
    name: str(o.name, `${path}.name`),
    role: linkRole(o.role, `${path}.role`),
    state: str(o.state, `${path}.state`),
    mac: nullable(o.mac, `${path}.mac`, str),
    addresses: arr(o.addresses, `${path}.addresses`, str),
  });
}

function lease(value: unknown, path: string): DhcpLease {
  const o = obj(value, path);
  return keep(o, {
    mac: str(o.mac, `${path}.mac`),
    ip: str(o.ip, `${path}.ip`),
    hostname: nullable(o.hostname, `${path}.hostname`, str),
    expiresAt: nullable(o.expiresAt, `${path}.expiresAt`, str),
  });
}

function sshOnWan(value: unknown, path: string): SshOnWanStatus {
  const o = obj(value, path);
  return keep(o, {
    enabled: bool(o.enabled, `${path}.enabled`),
    firewallAllows: nullable(o.firewallAllows, `${path}.firewallAllows`, bool),
    expiresAt: nullable(o.expiresAt, `${path}.expiresAt`, str),
    wanInterface: nullable(o.wanInterface, `${path}.wanInterface`, str),
  });
}

function health(value: unknown, path: string): HealthStatus {
  const o = obj(value, path);
  return keep(o, {
    state: healthState(o.state, `${path}.state`),
    updatedAt: nullable(o.updatedAt, `${path}.updatedAt`, str),
    detail: nullable(o.detail, `${path}.detail`, str),
  });
}

function statusError(value: unknown, path: string): StatusError {
  const o = obj(value, path);
  return keep(o, { field: str(o.field, `${path}.field`), reason: str(o.reason, `${path}.reason`) });
}

/** Validate a parsed document; throws Rk64Error('protocol') naming the first bad field. */
export function validateStatus(data: unknown, source = 'gateway'): GatewayStatus {
  try {
    const o = obj(data, 'status');
    if (o.schema !== STATUS_SCHEMA) {
      fail('schema', `"${STATUS_SCHEMA}" (this console understands only that version)`, o.schema);
    }
    const uptime = nullable(o.uptimeSeconds, 'uptimeSeconds', num);
    return keep(o, {
      schema: STATUS_SCHEMA,
      collectedAt: str(o.collectedAt, 'collectedAt'),
      hostname: nullable(o.hostname, 'hostname', str),
      uptimeSeconds: uptime,
      versions:
        o.versions === undefined
          ? { os: null, bundle: null, kernel: null, rk64: null }
          : versions(o.versions, 'versions'),
      rauc: nullable(o.rauc, 'rauc', rauc),
      bootState: nullable(o.bootState, 'bootState', bootState),
      watchdog: nullable(o.watchdog, 'watchdog', watchdog),
      links: nullable(o.links, 'links', (v, p) => arr(v, p, link)),
      leases: nullable(o.leases, 'leases', (v, p) => arr(v, p, lease)),
      sshOnWan: nullable(o.sshOnWan, 'sshOnWan', sshOnWan),
      health: nullable(o.health, 'health', health),
      firstBootCompleted: nullable(o.firstBootCompleted, 'firstBootCompleted', bool),
      errors: o.errors === undefined ? [] : arr(o.errors, 'errors', statusError),
    });
  } catch (error) {
    if (error instanceof Invalid) {
      throw new Rk64Error(
        'protocol',
        `${source}: rk64-status printed an invalid document: ${error.message}`,
        'update the device scripts or the console so both speak rk64.status/1',
      );
    }
    throw error;
  }
}

/** Parse rk64-status output text. */
export function parseStatus(text: string, source = 'gateway'): GatewayStatus {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const start = text.trim().slice(0, 60);
    throw new Rk64Error(
      'protocol',
      `${source}: rk64-status did not print JSON (${(error as Error).message}; output starts ${JSON.stringify(start)})`,
      'run rk64-status on the gateway to see what it prints',
    );
  }
  return validateStatus(data, source);
}
