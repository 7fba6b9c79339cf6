// flake/OPTIONS.md and the modules agree in both directions, and the table is for the pinned
// nixpkgs revision (flake/flake.lock).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from '../../lib/exec.js';
import { moduleFiles, optionPaths, readOptionsTable, readText, tokenize } from '../../lib/flake-nix.js';

const flakeDir = join(repoRoot, 'flake');

function setPaths(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const file of moduleFiles(flakeDir)) {
    for (const path of optionPaths(readText(file))) {
      where.set(path, [...(where.get(path) ?? []), file.slice(flakeDir.length + 1)]);
    }
  }
  return where;
}

describe('flake option table', () => {
  it('lists every option path the modules set, and nothing else', () => {
    const used = setPaths();
    const table = readOptionsTable(readText(join(flakeDir, 'OPTIONS.md')));
    const missing = [...used.keys()].filter((p) => !table.rows.has(p)).map((p) => `${p} (${used.get(p)?.join(', ')})`);
    const stale = [...table.rows.keys()].filter((p) => !used.has(p));
    expect(missing, 'set in the modules but not in flake/OPTIONS.md').toEqual([]);
    expect(stale, 'in flake/OPTIONS.md but set by no module').toEqual([]);
    expect(used.size).toBeGreaterThan(40);
  });

  it('names a nixpkgs declaring file for every row', () => {
    const table = readOptionsTable(readText(join(flakeDir, 'OPTIONS.md')));
    for (const [path, row] of table.rows) {
      expect(row.file, path).toMatch(/^nixos\/modules\/.+\.nix$/);
    }
  });

  it('is for the revision pinned in flake.lock', () => {
    const lock = JSON.parse(readText(join(flakeDir, 'flake.lock'))) as {
      nodes: { nixpkgs: { locked: { rev: string; narHash: string } } };
    };
    const table = readOptionsTable(readText(join(flakeDir, 'OPTIONS.md')));
    expect(lock.nodes.nixpkgs.locked.rev).toMatch(/^[0-9a-f]{40}$/);
    expect(lock.nodes.nixpkgs.locked.narHash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    expect(table.revision).toBe(lock.nodes.nixpkgs.locked.rev);
  });
});

describe('option-path reader', () => {
  it('reads config-level bindings without descending into values', () => {
    const src = `{ config, lib, ... }:
      let cfg = config.rk64.x; s = { not.this = 1; }; in
      {
        options.rk64.x.enable = lib.mkEnableOption "x";
        config = lib.mkMerge [
          { a.b = "\${cfg.y} } {"; c = { d = 1; }; }
          (lib.mkIf cfg.enable { e."f/g".h = ''x \${y}''; rk64.z = 1; }) # { comment = 1; }
        ];
      }`;
    expect(tokenize(src).length).toBeGreaterThan(10);
    const { optionPaths: read } = { optionPaths };
    expect(read(src)).toEqual(['a.b', 'c', 'e."f/g".h']);
  });

  it('reads a module without options as plain bindings', () => {
    expect(optionPaths('{ pkgs, ... }: { x.y = 1; users.users.${n}.home = "/h"; imports = [ ./a.nix ]; }')).toEqual([
      'x.y',
      'users.users.${n}.home',
    ]);
  });
});
