// The dashboard's serial line: opened once for the console run and kept open across reboots (and
// reopened only if the device itself went away), recorded into a capture file, followed boot by
// boot. The serial transport borrows it (SerialLease); the dashboard shows the boot events and
// does not wake the console while a boot is on its way (a key sent during U-Boot's countdown
// would stop the autoboot).
import type { SerialPort } from 'serialport';

import { Rk64Error } from '../errors.js';
import type { SerialTarget } from '../target.js';
import { openSerialPort } from '../transport/serial-port.js';
import { SerialLease, tapSerialPort } from '../transport/serial-tap.js';
import type { BootTracker } from './boots.js';
import { followBoots, type BootEvent } from './follow.js';
import { CaptureRecorder } from './recorder.js';

export class SerialLine {
  private port: SerialPort | undefined;
  private detach: (() => void) | undefined;
  private readonly recorder: CaptureRecorder;
  private readonly tracker: BootTracker;
  private readonly listeners = new Set<(event: BootEvent) => void>();
  private leases = new Set<SerialLease>();

  constructor(
    private readonly target: SerialTarget,
    env: NodeJS.ProcessEnv,
  ) {
    this.recorder = new CaptureRecorder({ target: target.name, device: target.path, baud: target.baud, env });
    this.tracker = followBoots(this.recorder, (event) => {
      // A new boot: no transport may type into U-Boot's countdown (it would stop the autoboot).
      if (event.kind === 'new-boot') {
        for (const lease of this.leases) lease.revoke();
        this.leases.clear();
      }
      for (const listener of [...this.listeners]) listener(event);
    });
  }

  get capturePath(): string {
    return this.recorder.path;
  }

  onBoot(listener: (event: BootEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * While a boot that began on this line has not reached its login prompt (or shell): what it is
   * doing, so nobody types into U-Boot's countdown. Undefined otherwise.
   */
  booting(): string | undefined {
    const boot = this.tracker.current;
    if (!boot || boot.reached === 'login' || boot.end !== 'running') return undefined;
    return `boot ${boot.index + 1} on its way (${boot.reached}${boot.slot ? `, slot ${boot.slot}` : ''})`;
  }

  /** The open line for a transport; opens (or reopens) the port when needed. */
  async lease(): Promise<SerialLease> {
    const booting = this.booting();
    if (booting) {
      throw new Rk64Error('serial-silent', `${this.target.name}: the gateway is rebooting: ${booting}`);
    }
    if (!this.port?.isOpen) {
      this.detach?.();
      const port = await openSerialPort(this.target.path, this.target.baud);
      this.detach = tapSerialPort(port, (data) => this.recorder.write(data));
      port.on('close', () => this.recorder.note('the serial device went away'));
      port.on('error', () => undefined);
      this.recorder.note(`opened ${this.target.path}`);
      this.port = port;
    }
    const lease = new SerialLease(this.port);
    this.leases.add(lease);
    return lease;
  }

  async close(): Promise<void> {
    this.detach?.();
    this.recorder.close();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
