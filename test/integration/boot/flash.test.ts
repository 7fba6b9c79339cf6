// provision/flash against real targets: files, a tmpfs that fills up, loop block devices.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../../lib/exec.js';
import {
  compileBootScript,
  kernelPath,
  partitions,
  rock64,
  scripts,
  tinySquashfs,
} from '../../lib/boot-image.js';

let dir: string;
let img: string;
const loops: string[] = [];

async function loopDevice(file: string): Promise<string> {
  const { stdout } = await runOk('losetup', ['--find', '--show', file]);
  const dev = stdout.trim();
  loops.push(dev);
  return dev;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk64-boot-flash-'));
  const bootScr = join(dir, 'boot.scr');
  await compileBootScript(bootScr);
  img = join(dir, 'rock64.img');
  await runOk('bash', [
    scripts.buildImage,
    '--idbloader',
    rock64.idbloader,
    '--uboot-itb',
    rock64.ubootItb,
    '--kernel',
    kernelPath(),
    '--boot-script',
    bootScr,
    '--rootfs',
    await tinySquashfs(dir),
    '--out',
    img,
    '--boot-size',
    '40M',
    '--rootfs-size',
    '4M',
  ]);
});

afterAll(async () => {
  for (const dev of loops) await run('losetup', ['-d', dev]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('flash', () => {
  it('writes and verifies a new target', async () => {
    const target = join(dir, 'emmc.bin');
    const r = await run('bash', [scripts.flash, img, target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/written and verified/);
    expect(r.stderr).toMatch(/verifying by reading back/);
    expect(readFileSync(target).equals(readFileSync(img))).toBe(true);
  });

  it('refuses a target that already holds an rk64 layout unless --force, leaving it untouched', async () => {
    const target = join(dir, 'provisioned.bin');
    await runOk('bash', [scripts.flash, img, target]);
    // mark the old content so "untouched" is visible
    await runOk('dd', [
      `if=/dev/zero`,
      `of=${target}`,
      'bs=1',
      'count=16',
      'seek=1000',
      'conv=notrunc',
      'status=none',
    ]);
    const before = readFileSync(target);
    const refused = await run('bash', [scripts.flash, img, target]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/already holds an rk64 layout; pass --force/);
    expect(readFileSync(target).equals(before)).toBe(true);
    const forced = await run('bash', [scripts.flash, '--force', img, target]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(target).equals(readFileSync(img))).toBe(true);
  });

  it('on a terminal asks before overwriting a provisioned target', async () => {
    const target = join(dir, 'asked.bin');
    await runOk('bash', [scripts.flash, img, target]);
    // `script` gives flash a real pty; the answer arrives after the question
    const ask = (answer: string): ReturnType<typeof run> =>
      run('sh', [
        '-c',
        `(sleep 1; printf '${answer}\\n') | script -qec 'bash "${scripts.flash}" "${img}" "${target}"' /dev/null`,
      ]);
    const no = await ask('no');
    expect(no.code).toBe(5);
    expect(no.stdout).toMatch(/Overwrite everything on it\? Type yes:/);
    expect(no.stdout).toMatch(/not overwriting/);
    const yes = await ask('yes');
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).toMatch(/written and verified/);
  });

  it('reports a short write when the target fills up', async () => {
    const mnt = join(dir, 'small');
    await runOk('mkdir', ['-p', mnt]);
    const r = await run('unshare', [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs -o size=8M none "${mnt}" && bash "${scripts.flash}" "${img}" "${mnt}/emmc.bin"`,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/short write: \d+ of \d+ bytes reached .*NOT usable/);
    expect(r.stderr).toMatch(/No space left on device/);
  });

  it('refuses a block device smaller than the image', async () => {
    const backing = join(dir, 'small-dev.bin');
    writeFileSync(backing, Buffer.alloc(16 * 1024 * 1024));
    const dev = await loopDevice(backing);
    const r = await run('bash', [scripts.flash, img, dev]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/has 16777216 bytes, the image needs \d+/);
  });

  it('writes and verifies a block device', async () => {
    const backing = join(dir, 'dev.bin');
    writeFileSync(backing, Buffer.alloc(statSync(img).size + 1024 * 1024, 0xaa));
    const dev = await loopDevice(backing);
    const r = await run('bash', [scripts.flash, img, dev]);
    expect(r.code, r.stderr).toBe(0);
    expect((await partitions(dev)).map((p) => p.name).sort()).toEqual([
      'boot-a',
      'firmware',
      'rootfs-a',
      'uboot-env',
    ]);
  });

  it('refuses a mounted target', async () => {
    // a squashfs on a loop device, padded to the image size, mounted in a private namespace
    const backing = join(dir, 'mounted.bin');
    await runOk('cp', [await tinySquashfs(join(dir, 'm')), backing]);
    await runOk('truncate', ['-s', String(statSync(img).size + 1024 * 1024), backing]);
    const dev = await loopDevice(backing);
    const mnt = join(dir, 'mnt');
    await runOk('mkdir', ['-p', mnt]);
    const r = await run('unshare', [
      '-m',
      'sh',
      '-c',
      `mount -t squashfs -o ro "${dev}" "${mnt}" && bash "${scripts.flash}" --force "${img}" "${dev}"`,
    ]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`target is mounted \\(${dev} on ${mnt}\\); unmount it first`));
  });

  it('rejects bad usage with one clear line', async () => {
    const r = await run('bash', [scripts.flash, img]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: flash \[--force\] .*IMAGE TARGET/);
    const missing = await run('bash', [scripts.flash, join(dir, 'nope.img'), join(dir, 't')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/image '.*nope\.img' is not a readable file/);
  });
  describe('provisioning input on boot-a (--authorized-keys, --openvpn, --provision-only)', () => {
    let keyFile: string;
    let publicKey: string;
    beforeAll(async () => {
      await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'op@laptop', '-f', join(dir, 'op')]);
      publicKey = readFileSync(join(dir, 'op.pub'), 'utf8').trim();
      keyFile = join(dir, 'keys');
      writeFileSync(keyFile, `# the operator's laptop\n\n${publicKey}\n`);
    });

    /** The mtools image spec of boot-a on a flashed file: FILE@@OFFSET. */
    async function bootA(target: string): Promise<string> {
      const table = JSON.parse((await runOk('sfdisk', ['--json', target])).stdout) as {
        partitiontable: { sectorsize?: number; partitions: { name?: string; start: number }[] };
      };
      const part = table.partitiontable.partitions.find((p) => p.name === 'boot-a');
      if (!part) throw new Error(`no boot-a on ${target}`);
      return `${target}@@${part.start * (table.partitiontable.sectorsize ?? 512)}`;
    }
    const mtype = async (target: string, path: string) =>
      (
        await runOk('mtype', ['-i', await bootA(target), `::${path}`], {
          env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
        })
      ).stdout;

    it("writes each user's keys and the OpenVPN files to boot-a after the verified image", async () => {
      const target = join(dir, 'keys.bin');
      const vpn = join(dir, 'vpn');
      mkdirSync(vpn, { recursive: true });
      writeFileSync(join(vpn, 'ca.crt'), 'CA\n');
      writeFileSync(join(vpn, 'server.key'), 'KEY\n');
      const r = await run('bash', [
        scripts.flash,
        '--authorized-keys',
        keyFile,
        '--authorized-keys',
        join(dir, 'op.pub'),
        '--user',
        'rk64-test',
        '--openvpn',
        vpn,
        img,
        target,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/written and verified/);
      expect(await mtype(target, 'provisioning/ssh-authorized-keys/operator')).toBe(
        readFileSync(keyFile, 'utf8'),
      );
      expect((await mtype(target, 'provisioning/ssh-authorized-keys/rk64-test')).trim()).toBe(publicKey);
      expect(await mtype(target, 'provisioning/openvpn/server.key')).toBe('KEY\n');
      // the image itself is untouched outside boot-a's files: the boot script is still there
      expect(await mtype(target, 'boot.scr')).not.toBe('');
    });

    it('refuses a bad key line with its line number, and writes nothing', async () => {
      const bad = join(dir, 'bad-keys');
      writeFileSync(bad, `${publicKey}\n# fine\nssh-ed25519 AAAAbroken typo\n`);
      const target = join(dir, 'bad-keys.bin');
      const r = await run('bash', [scripts.flash, '--authorized-keys', bad, img, target]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bad-keys line 3: not a valid SSH public key .*; nothing written/);
      expect(existsSync(target)).toBe(false);
    });

    it('an unreadable key file is a clear error, and nothing is written', async () => {
      const target = join(dir, 'unreadable.bin');
      const r = await run('bash', [
        scripts.flash,
        '--authorized-keys',
        join(dir, 'no-such-keys'),
        img,
        target,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /authorized keys file '.*no-such-keys' is not a readable file; nothing written/,
      );
      expect(existsSync(target)).toBe(false);
      const empty = join(dir, 'empty-keys');
      writeFileSync(empty, '# nothing yet\n');
      const e = await run('bash', [scripts.flash, '--authorized-keys', empty, img, target]);
      expect(e.code).toBe(2);
      expect(e.stderr).toMatch(/holds no SSH public key; nothing written/);
      expect(existsSync(target)).toBe(false);
    });

    it('refuses OpenVPN files outside the allow-list, links and oversized files, and writes nothing', async () => {
      const target = join(dir, 'vpn-bad.bin');
      const cases: [string, (d: string) => void, RegExp][] = [
        ['name', (d) => writeFileSync(join(d, 'client.ovpn'), 'x'), /'client\.ovpn' is not one of: ca\.crt/],
        [
          'link',
          (d) => symlinkSync('/etc/shadow', join(d, 'server.key')),
          /server\.key is not a regular file/,
        ],
        [
          'size',
          (d) => writeFileSync(join(d, 'crl.pem'), 'x'.repeat(65537)),
          /crl\.pem is larger than 65536 bytes/,
        ],
      ];
      for (const [name, make, message] of cases) {
        const vpn = join(dir, `vpn-${name}`);
        mkdirSync(vpn, { recursive: true });
        writeFileSync(join(vpn, 'ca.crt'), 'CA\n');
        make(vpn);
        const r = await run('bash', [
          scripts.flash,
          '--authorized-keys',
          keyFile,
          '--openvpn',
          vpn,
          img,
          target,
        ]);
        expect(r.code, name).toBe(2);
        expect(r.stderr, name).toMatch(message);
        expect(existsSync(target), name).toBe(false);
      }
    });

    it('--provision-only adds keys to an already flashed target and refuses one without an rk64 layout', async () => {
      const target = join(dir, 'later.bin');
      await runOk('bash', [scripts.flash, img, target]);
      const r = await run('bash', [scripts.flash, '--provision-only', '--authorized-keys', keyFile, target]);
      expect(r.code, r.stderr).toBe(0);
      expect(await mtype(target, 'provisioning/ssh-authorized-keys/operator')).toBe(
        readFileSync(keyFile, 'utf8'),
      );
      const blank = join(dir, 'blank.bin');
      writeFileSync(blank, Buffer.alloc(1024 * 1024));
      const refused = await run('bash', [
        scripts.flash,
        '--provision-only',
        '--authorized-keys',
        keyFile,
        blank,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/holds no rk64 layout/);
    });
  });
});
