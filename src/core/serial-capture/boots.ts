// What a serial capture says about the gateway's boots: the capture split into boots (a U-Boot
// banner starts one) and the stages each reached, from the lines U-Boot, our boot.scr
// (device-scripts/boot/boot.cmd), the kernel, systemd, os-verification and getty print. All text
// here comes from the wire and is untrusted: it is matched, never obeyed, and whatever of it is
// kept (a health check's reason, a banner) is made printable.
import { printable } from '../printable.js';
import type { CaptureLine } from './format.js';

/** The stages of a boot, in the order a healthy boot reaches them. */
export const BOOT_STAGES = ['uboot', 'boot-script', 'kernel', 'user-space', 'health-check', 'login'] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

export const STAGE_LABEL: Record<BootStage, string> = {
  uboot: 'U-Boot',
  'boot-script': 'boot script',
  kernel: 'kernel',
  'user-space': 'user space',
  'health-check': 'health check',
  login: 'login prompt',
};

export type HealthVerdict =
  { verdict: 'passed' | 'committed-earlier' | 'checking' } | { verdict: 'failed'; reason: string };

/** How a boot ended, as far as the console showed it. */
export type BootEnd =
  /** systemd's "reboot: Restarting system" or U-Boot's "resetting ...": an orderly restart. */
  | 'restart'
  | 'power-off'
  | 'panic'
  /** The next boot began with nothing of that: a watchdog reset, a hang cut short, power loss. */
  | 'reset'
  /** The capture ends inside this boot. */
  | 'running';

export interface Boot {
  /** 0-based position in the capture. */
  index: number;
  startedAt: Date;
  /** U-Boot's banner line (printable). */
  banner: string;
  /** The slot boot.scr chose (`rk64: booting slot B ...`), and its mode (normal, exhausted). */
  slot?: 'A' | 'B';
  mode?: string;
  /** The attempts boot.scr found for the slot before counting this boot (`rk64: BOOT_ORDER=...`). */
  attemptsLeftBefore?: number;
  /** The attempts stored after counting this boot (`rk64: state saved ...`). */
  attemptsLeftAfter?: number;
  /** The furthest stage seen, and when each stage was first seen. */
  reached: BootStage;
  stages: { stage: BootStage; at: Date }[];
  health?: HealthVerdict;
  end: BootEnd;
  /** The line that tells how it ended (a panic's message), printable. */
  endLine?: string;
  lines: number;
}

// A kernel log prefix (`[   12.345678] `), stripped before matching.
const KERNEL_PREFIX = /^\[ *\d+\.\d+\] /;
// CSI / OSC / two-character escapes, then the remaining C0 controls and DEL.
const TERMINAL =
  // eslint-disable-next-line no-control-regex -- the point is to remove control sequences
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0a-\x1f\x7f]/g;

/** A wire line as text to match: decoded (lossy), terminal sequences and CR removed. */
export function lineText(bytes: Buffer): string {
  return bytes.toString('utf8').replace(TERMINAL, '').replace(KERNEL_PREFIX, '').trimEnd();
}

const UBOOT_BANNER = /^U-Boot (TPL |SPL )?\d{4}\.\d\d/;
const PATTERNS: { stage: BootStage; re: RegExp }[] = [
  { stage: 'boot-script', re: /^rk64: boot script on / },
  { stage: 'kernel', re: /^Starting kernel \.\.\.|Booting Linux on physical CPU/ },
  { stage: 'user-space', re: /^Welcome to .+!$|Run \S+ as init process|systemd\[1\]: / },
  { stage: 'health-check', re: /os-verification: / },
  // A kernel message may follow the prompt on its line (the console is shared).
  { stage: 'login', re: /\blogin: ?(?:$|\[ *\d+\.\d+\] )|rk64-login user: ?$|^[\w.-]+@[\w.-]+:[^ ]*[#$] ?$/ },
];
const BOOTING = /^rk64: booting slot ([AB]) from \S+ \S+ \((\w+)\)/;
const ORDER = /^rk64: BOOT_ORDER=.* BOOT_A_LEFT=(\d+) BOOT_B_LEFT=(\d+)$/;
const SAVED = /^rk64: state saved \(block \S+\) BOOT_A_LEFT=(\d+) BOOT_B_LEFT=(\d+)$/;
const HEALTH_FAILED = /os-verification: health check FAILED, slot \S+ stays uncommitted: (.*)$/;
const RESTART = /reboot: Restarting system|rk64: .*; resetting$|^resetting \.\.\.$/;
const POWER_OFF = /reboot: Power down|System halted/;
const PANIC = /Kernel panic - not syncing/;

function rank(stage: BootStage): number {
  return BOOT_STAGES.indexOf(stage);
}

/**
 * Follows a serial line boot by boot. `line()` takes the wire's lines in order; `boots` holds
 * every boot seen so far, the last one still open (end 'running').
 */
export class BootTracker {
  readonly boots: Boot[] = [];
  /** The boot's order numbers for A and B before it counted, kept until the slot is known. */
  private order: { A: number; B: number } | undefined;
  private saved: { A: number; B: number } | undefined;
  /** True between a TPL/SPL banner and U-Boot proper's: the proper banner belongs to that boot. */
  private inLoader = false;

  get current(): Boot | undefined {
    return this.boots.at(-1);
  }

  /** Feed one wire line; returns the stage it newly reached, or 'new-boot', or undefined. */
  line(bytes: Buffer, time: Date): BootStage | 'new-boot' | undefined {
    const text = lineText(bytes);
    const banner = UBOOT_BANNER.exec(text);
    if (banner) {
      const loader = banner[1] !== undefined;
      // TPL → SPL → U-Boot proper print a banner each: one boot.
      if (this.inLoader && this.current?.reached === 'uboot') {
        this.inLoader = loader;
        return undefined;
      }
      this.inLoader = loader;
      this.startBoot(text, time);
      return 'new-boot';
    }
    const boot = this.current;
    if (!boot) return undefined;
    boot.lines += 1;
    let reached: BootStage | undefined;
    for (const { stage, re } of PATTERNS) {
      if (re.test(text) && !boot.stages.some((s) => s.stage === stage)) {
        boot.stages.push({ stage, at: time });
        if (rank(stage) > rank(boot.reached)) boot.reached = stage;
        reached = stage;
      }
    }
    this.details(boot, text);
    return reached;
  }

  /** An unfinished line (a prompt that has no newline yet): looked at for the login prompt only. */
  partial(bytes: Buffer, time: Date): BootStage | undefined {
    const boot = this.current;
    if (!boot || boot.stages.some((s) => s.stage === 'login')) return undefined;
    const login = PATTERNS.find((p) => p.stage === 'login');
    if (!login?.re.test(lineText(bytes))) return undefined;
    boot.stages.push({ stage: 'login', at: time });
    boot.reached = 'login';
    return 'login';
  }

  private startBoot(banner: string, time: Date): void {
    const previous = this.current;
    if (previous && previous.end === 'running') previous.end = 'reset';
    this.order = undefined;
    this.saved = undefined;
    this.boots.push({
      index: this.boots.length,
      startedAt: time,
      banner: printable(banner),
      reached: 'uboot',
      stages: [{ stage: 'uboot', at: time }],
      end: 'running',
      lines: 1,
    });
  }

  private details(boot: Boot, text: string): void {
    const order = ORDER.exec(text);
    if (order) this.order = { A: Number(order[1]), B: Number(order[2]) };
    const saved = SAVED.exec(text);
    if (saved) this.saved = { A: Number(saved[1]), B: Number(saved[2]) };
    const booting = BOOTING.exec(text);
    if (booting) {
      const slot = booting[1] === 'B' ? 'B' : 'A';
      boot.slot = slot;
      boot.mode = booting[2] ?? 'normal';
      if (this.order) boot.attemptsLeftBefore = this.order[slot];
      if (this.saved) boot.attemptsLeftAfter = this.saved[slot];
    }
    if (/os-verification: /.test(text)) {
      const failed = HEALTH_FAILED.exec(text);
      if (failed) boot.health = { verdict: 'failed', reason: printable(failed[1] ?? '') };
      else if (/marked good and committed|healthy .* marked good/.test(text))
        boot.health = { verdict: 'passed' };
      else if (/already committed/.test(text)) boot.health = { verdict: 'committed-earlier' };
      else if (/is on trial/.test(text) && boot.health === undefined) boot.health = { verdict: 'checking' };
    }
    if (PANIC.test(text)) {
      boot.end = 'panic';
      boot.endLine = printable(text);
    } else if (boot.end === 'running' && RESTART.test(text)) {
      boot.end = 'restart';
      boot.endLine = printable(text);
    } else if (boot.end === 'running' && POWER_OFF.test(text)) {
      boot.end = 'power-off';
      boot.endLine = printable(text);
    }
  }
}

/** The boots in a capture's lines (format.ts captureLines). */
export function splitBoots(lines: readonly CaptureLine[]): Boot[] {
  const tracker = new BootTracker();
  for (const line of lines) {
    if (line.complete) tracker.line(line.bytes, line.time);
    else tracker.partial(line.bytes, line.time);
  }
  return tracker.boots;
}

/** Why a boot did not get as far as a healthy one, in words; undefined when it did. */
export type BootTrouble =
  'kernel did not start' | 'never reached user space' | 'health check failed' | 'reset in user space';

export function bootTrouble(boot: Boot): BootTrouble | undefined {
  if (boot.end === 'running') return undefined;
  if (rank(boot.reached) < rank('kernel')) return 'kernel did not start';
  if (rank(boot.reached) < rank('user-space')) return 'never reached user space';
  if (boot.health?.verdict === 'failed') return 'health check failed';
  if (boot.end === 'reset' || boot.end === 'panic') return 'reset in user space';
  return undefined;
}

/** What the last boots of a capture reached: the input `rk64 why` words on a serial target. */
export interface CaptureSummary {
  boots: number;
  /** The last boot: its slot, the furthest stage, how it ended. */
  last?: { slot?: 'A' | 'B'; reached: BootStage; end: BootEnd; at: Date };
  /**
   * The run of most recent finished boots of one slot that failed the same way (newest last),
   * e.g. three boots of B that never reached user space.
   */
  trouble?: {
    slot?: 'A' | 'B';
    trouble: BootTrouble;
    count: number;
    firstAt: Date;
    lastAt: Date;
    /** The health check's reason (trouble 'health check failed'), or a panic's line. */
    detail?: string;
  };
  /** One sentence for a person. */
  sentence: string;
}

const COUNT_WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const countWord = (n: number): string => COUNT_WORDS[n] ?? String(n);

function time(at: Date): string {
  return at.toISOString().slice(11, 16);
}

export function summarizeBoots(boots: readonly Boot[]): CaptureSummary {
  const last = boots.at(-1);
  if (!last) return { boots: 0, sentence: 'the capture holds no boot (no U-Boot banner)' };
  const summary: Omit<CaptureSummary, 'sentence'> = {
    boots: boots.length,
    last: {
      ...(last.slot ? { slot: last.slot } : {}),
      reached: last.reached,
      end: last.end,
      at: last.startedAt,
    },
  };
  // The newest finished boot that failed, and the boots before it that failed the same way.
  const finished = boots.filter((b) => b.end !== 'running');
  const newest = finished.at(-1);
  const kind = newest ? bootTrouble(newest) : undefined;
  const lastRun =
    last.end === 'running' ? `; now ${STAGE_LABEL[last.reached]} of slot ${last.slot ?? '?'}` : '';
  if (!newest || !kind) {
    return {
      ...summary,
      sentence: `${countWord(boots.length)} boot${boots.length === 1 ? '' : 's'} captured, the last finished one without trouble${lastRun}`,
    };
  }
  const run: Boot[] = [];
  for (let i = finished.length - 1; i >= 0; i -= 1) {
    const boot = finished[i];
    if (!boot || boot.slot !== newest.slot || bootTrouble(boot) !== kind) break;
    run.unshift(boot);
  }
  const first = run[0] ?? newest;
  const detail =
    kind === 'health check failed' && newest.health?.verdict === 'failed'
      ? newest.health.reason
      : newest.end === 'panic'
        ? newest.endLine
        : undefined;
  const who = `${countWord(run.length)} boot${run.length === 1 ? '' : 's'} of ${newest.slot ?? 'an unknown slot'}`;
  const what: Record<BootTrouble, string> = {
    'kernel did not start': 'never started the kernel',
    'never reached user space': 'started the kernel but never reached user space',
    'health check failed': `failed the health check${detail ? `: ${detail}` : ''}`,
    'reset in user space': `were reset in user space${newest.end === 'panic' ? ' (kernel panic)' : ' (watchdog, hang or power)'}`,
  };
  const verb = run.length === 1 ? what[kind].replace(/^were /, 'was ') : what[kind];
  return {
    ...summary,
    trouble: {
      ...(newest.slot ? { slot: newest.slot } : {}),
      trouble: kind,
      count: run.length,
      firstAt: first.startedAt,
      lastAt: newest.startedAt,
      ...(detail ? { detail } : {}),
    },
    sentence: `${who} ${verb} (${time(first.startedAt)}–${time(newest.startedAt)} UTC)${lastRun}`,
  };
}
