// The console's sudo path for a non-root SSH user: `sudo -n`, and one clear refusal naming the
// gateway's sudoers drop-in (sudo's own words as a real sudo prints them).
import { describe, expect, it } from 'vitest';
import { asGatewayRoot, sudoRefusal, SUDOERS_DROPIN } from '../../../src/core/privilege.js';

const operator = { user: 'operator', description: 'ssh://operator@gw:22' };
const root = { user: 'root', description: 'ssh://root@gw:22' };

describe('privilege', () => {
  it('runs the programs through sudo -n unless the user is root (or unknown: serial)', () => {
    expect(asGatewayRoot(operator, 'rk64-status')).toBe('sudo -n rk64-status');
    expect(asGatewayRoot(root, 'rk64-action ssh-wan off')).toBe('rk64-action ssh-wan off');
    expect(asGatewayRoot({}, 'rk64-status')).toBe('rk64-status');
  });

  it('names the sudoers drop-in when sudo refuses or is missing', () => {
    const refused = sudoRefusal(operator, 'rk64-status', {
      exitCode: 1,
      stderr: 'sudo: a password is required\n',
    });
    expect(refused).toBe(
      `ssh://operator@gw:22: sudo refused rk64-status for operator (a password is required); the gateway's sudoers drop-in ${SUDOERS_DROPIN} must allow operator to run rk64-status and rk64-action without a password`,
    );
    expect(
      sudoRefusal(operator, 'rk64-action', {
        exitCode: 127,
        stderr: 'bash: line 1: sudo: command not found\n',
      }),
    ).toMatch(/sudo is not installed on the gateway.*\/etc\/sudoers\.d\/rk64-operator/);
  });

  it("leaves the program's own failures to the program, and root alone", () => {
    expect(
      sudoRefusal(operator, 'rk64-action', { exitCode: 3, stderr: 'rk64-action: error: busy\n' }),
    ).toBeNull();
    expect(sudoRefusal(operator, 'rk64-status', { exitCode: 0, stderr: '' })).toBeNull();
    expect(
      sudoRefusal(root, 'rk64-status', { exitCode: 1, stderr: 'sudo: a password is required\n' }),
    ).toBeNull();
  });
});
