// The one way the console opens a serial device, for the shell transport (serial.ts) and the
// U-Boot console (uboot-console.ts): always with an exclusive lock, so two programs never type
// into one console, and with an error that says what is wrong with the device.
import { SerialPort } from 'serialport';

import { Rk64Error } from '../errors.js';

/**
 * The Rk64Error for a failed open. serialport's messages carry the system error's text
 * (`Error: Permission denied, cannot open /dev/ttyUSB0`, `Error Resource temporarily unavailable
 * Cannot lock port`), sometimes with the code.
 */
export function serialOpenError(path: string, error: Error & { code?: unknown }): Rk64Error {
  const message = `${typeof error.code === 'string' ? `${error.code} ` : ''}${error.message}`;
  if (/ENOENT|No such file/i.test(message)) {
    return new Rk64Error(
      'serial-missing',
      `serial device ${path} does not exist`,
      'check the cable and the device name (ls /dev/ttyUSB* /dev/serial/by-id)',
    );
  }
  if (/EACCES|EPERM|permission denied|not permitted/i.test(message)) {
    return new Rk64Error(
      'serial-denied',
      `permission denied opening serial device ${path}`,
      'add yourself to the dialout group (then log in again) or run as root',
    );
  }
  if (/lock|busy|EBUSY|EAGAIN|temporarily unavailable/i.test(message)) {
    return new Rk64Error(
      'serial-busy',
      `serial device ${path} is in use by another program`,
      'close screen/minicom/picocom or the other rk64 on it',
    );
  }
  return new Rk64Error('serial-missing', `cannot open serial device ${path}: ${error.message}`);
}

export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(serialOpenError(path, error)) : resolve())),
  );
  return port;
}
