// The two files of ssh2 the console uses, imported by path (src/core/transport/ssh.ts says why).
// Their shapes are @types/ssh2's: lib/client.js exports the Client class, and
// lib/protocol/keyParser.js an object whose parseKey is utils.parseKey.
declare module 'ssh2/lib/client.js' {
  import type { Client } from 'ssh2';
  const client: typeof Client;
  export = client;
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import type { utils } from 'ssh2';
  const keyParser: { parseKey: typeof utils.parseKey };
  export = keyParser;
}
