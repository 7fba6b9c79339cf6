// A throw-away certificate authority and a server certificate for 127.0.0.1 / localhost, made
// with the real openssl, for update servers the tests run over HTTPS (the gateway fetches over
// https only and may pin the update server's CA).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  /** PEM file of the CA certificate (what a gateway's ca_file points at). */
  caFile: string;
  /** Server key and certificate (PEM text) for node's https.createServer. */
  key: string;
  cert: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Make a CA named `name` in dir/name and a server certificate it signed (SAN: hosts). */
export function makeTestCa(dir: string, name: string, hosts = ['IP:127.0.0.1', 'DNS:localhost']): TestCa {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    join(d, 'ca.key'),
    '-out',
    join(d, 'ca.pem'),
    '-subj',
    `/CN=rk64 test ${name} CA`,
    '-days',
    '3',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req',
    ...ec,
    '-keyout',
    join(d, 'server.key'),
    '-out',
    join(d, 'server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(join(d, 'ext'), `subjectAltName=${hosts.join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    join(d, 'server.csr'),
    '-CA',
    join(d, 'ca.pem'),
    '-CAkey',
    join(d, 'ca.key'),
    '-CAcreateserial',
    '-out',
    join(d, 'server.pem'),
    '-days',
    '3',
    '-extfile',
    join(d, 'ext'),
  ]);
  return {
    caFile: join(d, 'ca.pem'),
    key: readFileSync(join(d, 'server.key'), 'utf8'),
    cert: readFileSync(join(d, 'server.pem'), 'utf8'),
  };
}
