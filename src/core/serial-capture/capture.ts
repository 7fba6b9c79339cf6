// `rk64 capture serial:/dev/ttyUSB0 [--boots N]`: the flight recorder without the dashboard, for
// a laptop left on the cable. The port is opened once and stays open (a reboot never closes a
// USB serial adapter), so the first lines of every boot are recorded.
import { Rk64Error } from '../errors.js';
import type { SerialTarget } from '../target.js';
import { openSerialPort } from '../transport/serial-port.js';
import { tapSerialPort } from '../transport/serial-tap.js';
import { summarizeBoots, type CaptureSummary } from './boots.js';
import { followBoots } from './follow.js';
import { CaptureRecorder } from './recorder.js';

export interface CaptureOptions {
  target: SerialTarget;
  env: NodeJS.ProcessEnv;
  /** Stop once this many boots were seen whole (the next one began, or this one's login prompt). */
  boots?: number;
  signal?: AbortSignal;
  /** Progress lines (printable). */
  log: (line: string) => void;
}

export interface CaptureResult {
  path: string;
  summary: CaptureSummary;
  /** Why it stopped. */
  stopped: 'boots' | 'cancelled' | 'port-closed';
}

export async function captureSerial(options: CaptureOptions): Promise<CaptureResult> {
  const { target } = options;
  const port = await openSerialPort(target.path, target.baud);
  const recorder = new CaptureRecorder({
    target: target.name,
    device: target.path,
    baud: target.baud,
    env: options.env,
  });
  const detach = tapSerialPort(port, (data) => recorder.write(data));
  options.log(`recording ${target.path} at ${target.baud} baud into ${recorder.path}`);
  let stop: (why: CaptureResult['stopped']) => void = () => undefined;
  const stopped = new Promise<CaptureResult['stopped']>((resolve) => (stop = resolve));
  const wanted = options.boots;
  const tracker = followBoots(recorder, (event) => {
    options.log(event.text);
    if (wanted === undefined) return;
    const done =
      event.kind === 'new-boot'
        ? event.boot.index >= wanted
        : event.kind === 'login' && event.boot.index + 1 >= wanted;
    if (done) stop('boots');
  });
  const onAbort = (): void => stop('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop('cancelled');
  port.on('close', () => stop('port-closed'));
  port.on('error', () => undefined);
  const why = await stopped;
  options.signal?.removeEventListener('abort', onAbort);
  detach();
  recorder.close(why === 'port-closed' ? 'the serial device went away' : `stopped (${why})`);
  if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  if (recorder.failure) throw new Rk64Error('internal', recorder.failure);
  return { path: recorder.path, summary: summarizeBoots(tracker.boots), stopped: why };
}
