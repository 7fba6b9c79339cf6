// The pure parts of the serial transport: escape stripping, prompt recognition, command framing.
import { describe, expect, it } from 'vitest';
import {
  detectPrompt,
  dropKernelLines,
  frameCommand,
  parseFramed,
  shellUser,
  stripTerminal,
} from '../../../src/core/transport/serial.js';

describe('serial framing', () => {
  it('strips colour, cursor and OSC escapes and carriage returns', () => {
    expect(stripTerminal('\x1b[1;31mroot@gw\x1b[0m:~# \r\n\x1b]0;title\x07ok\x1b[K\r\n')).toBe(
      'root@gw:~# \nok\n',
    );
  });

  it('recognises shell, login, password and U-Boot prompts', () => {
    expect(detectPrompt('Welcome\nroot@rk64-gw:~# ')).toBe('shell');
    expect(detectPrompt('~ $')).toBe('shell');
    expect(detectPrompt('\nrk64-gw login: ')).toBe('login');
    expect(detectPrompt('Password: ')).toBe('password');
    expect(detectPrompt('Hit any key to stop autoboot:  0 \n=> ')).toBe('uboot');
    expect(detectPrompt('=> => ')).toBe('uboot');
    expect(detectPrompt('Starting kernel ...\n')).toBeUndefined();
    expect(detectPrompt('root@gw:~# \n[   12.345678] usb 1-1: new device\n')).toBe('shell');
  });

  it('never puts the joined markers in the line it types', () => {
    const { line, begin, end } = frameCommand('echo hi', 'abcdef012345');
    expect(begin).toBe('Rabcdef012345B');
    expect(end).toBe('Rabcdef012345E:');
    expect(line).not.toContain(begin);
    expect(line).not.toContain(end);
    expect(line).toContain(Buffer.from('echo hi').toString('base64'));
  });

  it('finds output and exit status between the markers, ignoring echo, prompts and kernel lines', () => {
    const { line, begin, end } = frameCommand('ls /x', 'abcdef012345');
    const console =
      `${line}\r\n` +
      `${begin}\r\n` +
      'ls: cannot access \x1b[1m/x\x1b[0m\r\n' +
      '[   42.123456] usb 1-1: reset high-speed USB device\r\n' +
      `more\r\n${end}2\r\n\x1b[1;31mroot@gw\x1b[0m:~# `;
    expect(parseFramed(console, begin, end)).toEqual({
      output: 'ls: cannot access /x\nmore\n',
      stderr: '',
      exitCode: 2,
    });
    expect(parseFramed(console.slice(0, console.indexOf(end)), begin, end)).toBeUndefined();
    expect(parseFramed(`${begin}\npartial${end}0\n`, begin, end)).toEqual({
      output: 'partial',
      stderr: '',
      exitCode: 0,
    });
  });

  it('keeps standard error after its own marker, apart from the output', () => {
    const { line, begin, stderr, end } = frameCommand('rk64-status', 'abcdef012345');
    expect(line).not.toContain(stderr);
    const console =
      `${line}\r\n${begin}\r\n{"ok":true}\r\n${stderr}\r\n` +
      `sudo: unable to resolve host gw\r\n${end}0\r\n$ `;
    expect(parseFramed(console, begin, end, stderr)).toEqual({
      output: '{"ok":true}\n',
      stderr: 'sudo: unable to resolve host gw\n',
      exitCode: 0,
    });
    expect(parseFramed(`${begin}\nno-newline${stderr}\n${end}1\n`, begin, end, stderr)).toEqual({
      output: 'no-newline',
      stderr: '',
      exitCode: 1,
    });
  });

  it('drops kernel lines only', () => {
    expect(dropKernelLines('a\n[    1.000000] x\nb [not kernel]\n')).toBe('a\nb [not kernel]\n');
  });

  it("tells a root shell (#) from the logged-in user's ($): only the latter goes through sudo", () => {
    expect(shellUser('rk64-gateway:~# ', 'operator')).toBe('root');
    expect(shellUser('operator@rk64-gateway:~$ ', 'operator')).toBe('operator');
    expect(shellUser('x\nroot@gw:~#\n[   12.000000] eth0: link up\n', 'operator')).toBe('root');
  });
});
