// The recording seam of the serial transport: a tap sees every chunk read from the port, in order,
// from the moment the port is open (before the transport wakes the console), so the flight
// recorder (src/core/serial-capture/) keeps the bytes the transport itself may never look at.
import type { SerialPort } from 'serialport';

/** Called with every chunk read from the port; it must not throw (the recorder never does). */
export type SerialTap = (data: Buffer) => void;

/** Attach the tap to an open port; returns what detaches it. */
export function tapSerialPort(port: SerialPort, tap: SerialTap): () => void {
  port.on('data', tap);
  return () => {
    port.off('data', tap);
  };
}
