// The recording seam of the serial transport. The flight recorder (src/core/serial-capture/)
// holds the port open for the whole console run and taps every chunk read from it, in order, from
// the moment the port is open: a reboot never closes the line, so the first lines of a boot are
// recorded even while no transport is connected. A transport borrows the open line as a
// SerialLink lease: closing the lease detaches the transport's listeners and leaves the port open.
import { EventEmitter } from 'node:events';

import type { SerialPort } from 'serialport';

/** Called with every chunk read from the port; it must not throw (the recorder never does). */
export type SerialTap = (data: Buffer) => void;

/** What the serial transport uses of a port (a SerialPort is one). */
export interface SerialLink {
  readonly isOpen: boolean;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(data: string, callback: (error: Error | null | undefined) => void): unknown;
  drain(callback: (error: Error | null) => void): unknown;
  close(callback: (error?: Error | null) => void): unknown;
}

/** Attach the tap to an open port; returns what detaches it. */
export function tapSerialPort(port: SerialPort, tap: SerialTap): () => void {
  port.on('data', tap);
  return () => {
    port.off('data', tap);
  };
}

/** A transport's use of a port someone else keeps open. */
export class SerialLease implements SerialLink {
  private readonly events = new EventEmitter();
  private released = false;
  private readonly forwardData = (data: Buffer): void => {
    this.events.emit('data', data);
  };
  private readonly forwardClose = (): void => {
    this.release();
    this.events.emit('close');
  };
  private readonly forwardError = (error: Error): void => {
    this.events.emit('error', error);
  };

  constructor(private readonly port: SerialPort) {
    port.on('data', this.forwardData);
    port.on('close', this.forwardClose);
    port.on('error', this.forwardError);
    // Listeners with no 'error' handler would make an error event throw.
    this.events.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return !this.released && this.port.isOpen;
  }

  on(event: 'data', listener: (data: Buffer) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(
    event: 'data' | 'close' | 'error',
    listener: ((data: Buffer) => void) | (() => void) | ((error: Error) => void),
  ): this {
    this.events.on(event, listener);
    return this;
  }

  write(data: string, callback: (error: Error | null | undefined) => void): boolean {
    if (this.released) {
      callback(new Error('the serial line was released'));
      return false;
    }
    return this.port.write(data, callback);
  }

  drain(callback: (error: Error | null) => void): void {
    this.port.drain(callback);
  }

  /**
   * Take the line away from the transport (a reboot began): it sees the line close, and nothing
   * it writes from now on reaches the port.
   */
  revoke(): void {
    if (this.released) return;
    this.release();
    this.events.emit('close');
  }

  /** Detach, leaving the port open. */
  close(callback: (error?: Error | null) => void): void {
    this.release();
    callback(null);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.port.off('data', this.forwardData);
    this.port.off('close', this.forwardClose);
    this.port.off('error', this.forwardError);
  }
}
