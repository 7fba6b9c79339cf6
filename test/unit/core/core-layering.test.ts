// src/core stays free of React and Ink (the batch and JSON paths never load them).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { repoRoot } from '../../lib/exec.js';

describe('layering', () => {
  function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(name) ? [p] : [];
    });
  }

  it('the core never imports React or Ink', () => {
    const offenders = sources(`${repoRoot}/src/core`).filter((file) =>
      /from ['"](ink|react)(\/[^'"]*)?['"]|import\(['"](ink|react)/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
