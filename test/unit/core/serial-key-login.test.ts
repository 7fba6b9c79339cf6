// The console's side of the key-signed serial login: which challenges it signs (only the exact
// shape the gateway prints), how it reads the verdict, and the SSHSIG framing of what it pastes.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectPrompt } from '../../../src/core/transport/serial.js';
import type { ChallengeSigner } from '../../../src/core/transport/serial-key-login.js';
import {
  parseChallenge,
  parseVerdict,
  signChallenge,
  sshsigFields,
  sshsigSignedData,
} from '../../../src/core/transport/serial-key-login.js';

const LINE = `rk64-serial-login/1 host=gw-1.lan user=operator nonce=${'ab'.repeat(16)} expires=1800000000`;
const SCREEN = `rk64-login user: operator\nrk64-challenge: ${LINE}\nSign it on your laptop …\n  echo '…' | ssh-keygen …\nrk64-signature: paste the whole signature\n`;

describe('parseChallenge', () => {
  it('reads the challenge once the signature prompt arrived', () => {
    expect(parseChallenge(SCREEN)).toEqual({
      text: LINE,
      host: 'gw-1.lan',
      user: 'operator',
      nonce: 'ab'.repeat(16),
      expires: 1_800_000_000,
      namespace: 'rk64-serial-login@gw-1.lan',
    });
    expect(parseChallenge(SCREEN.slice(0, SCREEN.indexOf('rk64-signature')))).toBeUndefined();
  });

  it.each([
    ['a short nonce', LINE.replace(/nonce=\w+/, 'nonce=abcd')],
    ['an upper-case nonce', LINE.replace(/nonce=\w+/, `nonce=${'AB'.repeat(16)}`)],
    ['another protocol', LINE.replace('/1', '/2')],
    ['a host with a space', LINE.replace('gw-1.lan', 'gw 1')],
    ['a host with a quote', LINE.replace('gw-1.lan', "gw'1")],
    ['trailing text', `${LINE} please-sign-this`],
    ['a user with capitals', LINE.replace('operator', 'Root')],
  ])('does not sign a challenge with %s', (_what, line) => {
    expect(parseChallenge(`rk64-challenge: ${line}\nrk64-signature: paste\n`)).toBeUndefined();
  });
});

describe('parseVerdict', () => {
  it('reads accepted, refused with its reason and wait, and nothing yet', () => {
    expect(parseVerdict('…\nrk64-login accepted: logging in as operator\n')).toEqual({ accepted: true });
    expect(parseVerdict('x\nrk64-login refused: challenge expired\nrk64-login wait: 4 s before')).toEqual({
      accepted: false,
      reason: 'challenge expired',
      waitSeconds: 4,
    });
    expect(parseVerdict('x\nrk64-login refused: challenge expired\n')).toBeUndefined();
    expect(parseVerdict('-----END SSH SIGNATURE-----\n')).toBeUndefined();
  });
});

describe('detectPrompt', () => {
  it("recognises the gateway's key login prompt", () => {
    expect(detectPrompt('rk64 serial login on gw: …\nrk64-login user: ')).toBe('key-login');
    expect(detectPrompt('gw login: ')).toBe('login');
  });
});

describe('signChallenge', () => {
  it('frames an SSHSIG blob: public key, namespace, sha512, and a signature over the signed data', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const sshString = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const sshPublic = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
    const signer: ChallengeSigner = {
      label: 'test key',
      sign: (data) =>
        Promise.resolve({
          publicKey: sshPublic,
          signature: Buffer.concat([
            sshString(Buffer.from('ssh-ed25519')),
            sshString(sign(null, data, privateKey)),
          ]),
        }),
    };
    const challenge = parseChallenge(SCREEN);
    if (!challenge) throw new Error('no challenge');
    const armoured = await signChallenge(challenge, signer);
    expect(armoured.split('\n')[0]).toBe('-----BEGIN SSH SIGNATURE-----');
    expect(armoured.split('\n').at(-1)).toBe('-----END SSH SIGNATURE-----');
    expect(Math.max(...armoured.split('\n').map((l) => l.length))).toBeLessThanOrEqual(70);
    const fields = sshsigFields(armoured);
    expect(fields.publicKey).toEqual(sshPublic);
    expect(fields.namespace).toBe('rk64-serial-login@gw-1.lan');
    expect(fields.hash).toBe('sha512');
    const sig = fields.signature.subarray(4 + 11 + 4);
    const data = sshsigSignedData(challenge.namespace, Buffer.from(`${LINE}\n`));
    expect(verify(null, data, publicKey, sig)).toBe(true);
    expect(verify(null, sshsigSignedData(challenge.namespace, Buffer.from(LINE)), publicKey, sig)).toBe(
      false,
    );
  });
});
