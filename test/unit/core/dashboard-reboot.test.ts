// The dashboard on a serial target follows a reboot the flight recorder sees: it shows each boot
// event, drops the transport at a new boot (the line took the console away; no refresh may type
// into U-Boot), and at the login prompt reattaches and refreshes by itself.
import { describe, expect, it, vi } from 'vitest';

import type { DashboardBootEvent } from '../../../src/core/dashboard/controller.js';
import { bootLine } from '../../../src/core/dashboard/view.js';
import { controllerFor, loadStatus } from '../../lib/console-fixtures.js';
import { FakeTransport } from '../../lib/fake-transport.js';

describe('the dashboard follows a reboot on the serial line', () => {
  it('shows the boot, drops the transport at the banner, reattaches at the login prompt', async () => {
    const status = loadStatus('healthy');
    const transports: FakeTransport[] = [];
    let emit: (event: DashboardBootEvent) => void = () => undefined;
    const controller = controllerFor(new FakeTransport(), {
      connect: () => {
        const t = new FakeTransport('serial', 'serial:/dev/ttyUSB0@1500000', 1_500_000).status(() => status);
        transports.push(t);
        return Promise.resolve(t);
      },
      bootEvents: (listener) => {
        emit = listener;
        return () => (emit = () => undefined);
      },
    });
    controller.start();
    await vi.waitFor(() => expect(controller.getState().connection).toBe('connected'));
    expect(transports).toHaveLength(1);

    emit({ kind: 'new-boot', text: 'boot 1: U-Boot 2023.01 (x)' });
    await vi.waitFor(() => expect(transports[0]?.closed).toBe(true));
    expect(controller.getState().boot).toEqual({ text: 'boot 1: U-Boot 2023.01 (x)', rebooting: true });
    expect(bootLine(controller.getState())).toEqual({
      text: 'serial boot 1: U-Boot 2023.01 (x)',
      tone: 'bad',
    });
    emit({
      kind: 'kernel',
      text: 'boot 1: kernel starting (slot B, normal; attempts left 3 → 2)\x1b]0;x\x07',
    });
    // Text from the wire reaches the state only printable.
    expect(controller.getState().boot?.text).toBe(
      'boot 1: kernel starting (slot B, normal; attempts left 3 → 2)\\e]0;x\\x07',
    );
    expect(transports).toHaveLength(1);

    emit({ kind: 'login', text: 'boot 1: login prompt: slot B is up' });
    await vi.waitFor(() => expect(transports).toHaveLength(2));
    await vi.waitFor(() => expect(transports[1]?.commands.length).toBeGreaterThan(0));
    expect(controller.getState().boot).toEqual({
      text: 'boot 1: login prompt: slot B is up',
      rebooting: false,
    });
    await controller.stop();
  });
});
