// Every .nix file of the flake parses (Debian's nix-bin), and every device-scripts file the flake
// installs or calls exists: path literals, `deviceScriptsSrc + "/…"` / `src + "/…"` and
// build-outputs' `$DEVICE_SCRIPTS/…` name source files; `${pkg}/…` strings name files in the installed package, checked against a real
// run of device-scripts/install; units enabled by attribute (`systemd.services.X.wantedBy`) must
// be shipped by the package, while whole-set definitions (`systemd.services.X = { … }`) are the
// flake's own units.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { repoRoot, run, runOk } from '../../lib/exec.js';
import { moduleFiles, nixFiles, optionBindings, optionPaths, readText, tokenize } from '../../lib/flake-nix.js';

const flakeDir = join(repoRoot, 'flake');
const PREFIX = '/rk64-pkg';
let installRoot = '';

beforeAll(async () => {
  installRoot = mkdtempSync(join(tmpdir(), 'rk64-flake-install-'));
  await runOk('bash', [
    join(repoRoot, 'device-scripts/install'),
    '--destdir',
    installRoot,
    '--prefix',
    PREFIX,
    '--sysconfdir',
    `${PREFIX}/etc`,
  ]);
});
afterAll(() => {
  if (installRoot) rmSync(installRoot, { recursive: true, force: true });
});

/** Source files under device-scripts/ a Nix file names. */
export function sourceRefs(file: string, text: string): string[] {
  const refs: string[] = [];
  for (const m of text.matchAll(/((?:\.\.\/)+device-scripts(?:\/[\w.+-]+)*)/g)) {
    if (m[1] !== undefined) refs.push(resolve(dirname(file), m[1]));
  }
  for (const m of text.matchAll(/\b(?:deviceScriptsSrc|src) \+ "(\/[^"]+)"/g)) {
    if (m[1] !== undefined) refs.push(join(repoRoot, 'device-scripts', m[1]));
  }
  // `${deviceScriptsSrc}/image/build-bundle`: the whole tree is copied, the file is named.
  for (const m of text.matchAll(/\$\{(?:deviceScriptsSrc|src)\}((?:\/[\w.+-]+)+)/g)) {
    if (m[1] !== undefined) refs.push(join(repoRoot, 'device-scripts', m[1]));
  }
  // flake/packages/build-outputs names them through RK64_DEVICE_SCRIPTS.
  for (const m of text.matchAll(/\$DEVICE_SCRIPTS((?:\/[\w.+-]+)+)/g)) {
    if (m[1] !== undefined) refs.push(join(repoRoot, 'device-scripts', m[1]));
  }
  return refs;
}

/** Installed-package paths a Nix file names, with `${name}` expanded from `map (name: …) list`. */
export function packageRefs(text: string): string[] {
  const lists = new Map<string, string[]>();
  for (const m of text.matchAll(/(\w+) = \[([^\]]*)\];/g)) {
    const items = [...(m[2] ?? '').matchAll(/"([^"]+)"/g)].map((x) => x[1] ?? '');
    if (m[1] !== undefined && items.length > 0) lists.set(m[1], items);
  }
  const mapped = /map \(name: [\s\S]*?\) (\w+)/.exec(text)?.[1];
  const refs: string[] = [];
  for (const m of text.matchAll(/\$\{(?:pkg|cfg\.package|config\.rk64\.package|scripts)\}(\/[^"\s;']+)/g)) {
    const path = m[1] ?? '';
    if (path.includes('${name}')) {
      for (const name of lists.get(mapped ?? '') ?? ['<no list found>']) refs.push(path.replace('${name}', name));
    } else {
      refs.push(path);
    }
  }
  return refs;
}

const UNIT_SUFFIX: Record<string, string> = { services: 'service', timers: 'timer', paths: 'path', sockets: 'socket' };

/** Units a module enables from the package: `systemd.<kind>.<name>.<attr>` paths. */
export function packagedUnits(paths: string[]): string[] {
  const units: string[] = [];
  for (const p of paths) {
    const m = /^systemd\.(services|timers|paths|sockets)\.([\w-]+)\.\w+/.exec(p);
    if (m?.[1] !== undefined && m[2] !== undefined) units.push(`${m[2]}.${UNIT_SUFFIX[m[1]] ?? ''}`);
  }
  return units;
}

/** The targets a unit file's [Install] section names (WantedBy=, RequiredBy=); null without one. */
export function installTargets(unitText: string): string[] | null {
  let section = '';
  let hasInstall = false;
  const targets: string[] = [];
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    const header = /^\[(\w+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      section = header[1];
      if (section === 'Install') hasInstall = true;
      continue;
    }
    const m = /^(WantedBy|RequiredBy)=(.*)$/.exec(line);
    if (section === 'Install' && m?.[2] !== undefined) targets.push(...m[2].split(/\s+/).filter(Boolean));
  }
  return hasInstall ? targets.sort() : null;
}

/**
 * Units the test gateway enables from device-scripts, with their targets: test/gateway/build-root
 * runs `systemctl enable` on every unit file under device-scripts/ with an [Install] section.
 */
export function gatewayEnabledUnits(deviceScripts: string): Map<string, string[]> {
  const units = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(service|timer|path|socket|mount|target)$/.test(entry)) {
        const targets = installTargets(readText(full));
        if (targets !== null) units.set(entry, targets);
      }
    }
  };
  walk(deviceScripts);
  return units;
}

/** Units the flake's modules enable (`systemd.<kind>.<name>.wantedBy|requiredBy = [ … ]`), with their targets. */
export function flakeEnabledUnits(files: string[]): Map<string, string[]> {
  const units = new Map<string, string[]>();
  for (const file of files) {
    for (const b of optionBindings(readText(file))) {
      const m = /^systemd\.(services|timers|paths|sockets)\.([\w-]+)\.(wantedBy|requiredBy)$/.exec(b.path);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      const unit = `${m[2]}.${UNIT_SUFFIX[m[1]] ?? ''}`;
      units.set(unit, [...(units.get(unit) ?? []), ...b.strings].sort());
    }
  }
  return units;
}

/**
 * Units the flake enables only behind a non-default option, and the test gateway (which has no
 * such option) never: they ship without an [Install] section.
 */
const FLAKE_ONLY_BY_OPTION: Record<string, string> = {
  'rauc-hawkbit-updater.service': 'rk64.updates.method = "hawkbit" (default "poll": os-upgrade.timer)',
};

/**
 * What a NixOS module file writes itself instead of pointing at a shipped file: multi-line text,
 * unit definitions and unit settings, generated files, and extraConfig other than one `Include`
 * (sshd) or `@include` (sudoers) of a file from the package.
 */
export function inlineText(src: string): string[] {
  const found: string[] = [];
  const tokens = tokenize(src);
  tokens.forEach((t, i) => {
    // An option's own documentation (`description = '' … ''`) is not configuration.
    const isDescription = tokens[i - 2]?.text === 'description' && tokens[i - 1]?.text === '=';
    if (t.kind === 'string' && t.text.startsWith("''") && !isDescription) {
      found.push(`multi-line text ${t.text.slice(0, 40)}`);
    }
    if (t.kind === 'string' && /\b(ExecStart|ExecStop|\[Unit\]|\[Service\]|\[Manager\])/.test(t.text)) {
      found.push(`unit text ${t.text.slice(0, 40)}`);
    }
    if (t.kind === 'name' && /^(writeText|writeTextFile|writeShellScript|writeScript|writeShellScriptBin)$/.test(t.text)) {
      found.push(`generated file (${t.text})`);
    }
  });
  for (const path of optionPaths(src)) {
    if (/^systemd\.(services|timers|paths|sockets|mounts|targets)\.[^.]+$/.test(path)) found.push(`unit defined in Nix: ${path}`);
    if (/\.(serviceConfig|unitConfig|script|preStart|postStart|text|description|documentation)(\.|$)/.test(path)) {
      found.push(`unit or file text: ${path}`);
    }
    if (/^systemd\.tmpfiles\.(rules|settings)/.test(path)) found.push(`tmpfiles entries in Nix: ${path}`);
  }
  for (const m of src.matchAll(/\bextraConfig\s*=\s*([^;]+);/g)) {
    const value = (m[1] ?? '').trim();
    if (!/^"@?[Ii]nclude \$\{[\w.]+\}\/[\w./-]+"$/.test(value)) found.push(`extraConfig ${value.slice(0, 40)}`);
  }
  return found;
}

describe('flake Nix files', () => {
  it('modules/ hold no unit or configuration text of their own (only options and shipped files)', () => {
    const offences: string[] = [];
    const files = nixFiles(join(flakeDir, 'modules'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const what of inlineText(readText(file))) offences.push(`${file.slice(repoRoot.length + 1)}: ${what}`);
    }
    expect(offences).toEqual([]);
  });

  it('the inline-text check finds unit text, unit definitions and configuration text', () => {
    expect(inlineText('{ ... }: { config.systemd.services.x = { serviceConfig.ExecStart = "/bin/x"; }; }')).toEqual([
      'unit defined in Nix: systemd.services.x',
    ]);
    expect(inlineText("{ ... }: { config.services.x.extraConfig = ''\n  allow all\n''; }")).toEqual([
      "multi-line text ''\n  allow all\n''",
      "extraConfig ''\n  allow all\n''",
    ]);
    expect(inlineText('{ ... }: { config.systemd.services.x.serviceConfig.Restart = "always"; }')).toEqual([
      'unit or file text: systemd.services.x.serviceConfig.Restart',
    ]);
    expect(inlineText('{ ... }: { config.environment.etc."a".text = "x"; }')).toEqual(['unit or file text: environment.etc."a".text']);
    expect(inlineText('{ ... }: { config.systemd.tmpfiles.rules = [ "d /x" ]; }')).toEqual([
      'tmpfiles entries in Nix: systemd.tmpfiles.rules',
    ]);
    expect(
      inlineText('{ pkg, ... }: { config.services.openssh.extraConfig = "Include ${pkg}/etc/ssh/sshd_config.d/rk64.conf"; }'),
    ).toEqual([]);
    expect(
      inlineText('{ pkg, ... }: { config.security.sudo.extraConfig = "@include ${pkg}/etc/sudoers.d/rk64-operator"; }'),
    ).toEqual([]);
    expect(inlineText('{ ... }: { config.security.sudo.extraConfig = "operator ALL=(ALL) NOPASSWD: ALL"; }')).toEqual([
      'extraConfig "operator ALL=(ALL) NOPASSWD: ALL"',
    ]);
    expect(inlineText('{ pkg, ... }: { config.systemd.services.x.wantedBy = [ "multi-user.target" ]; }')).toEqual([]);
  });

  it('all parse with nix-instantiate --parse', async () => {
    const files = nixFiles(flakeDir);
    expect(files.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const file of files) {
      const r = await run('nix-instantiate', ['--parse', file]);
      if (r.code !== 0) failures.push(`${file}: ${r.stderr.split('\n').find((l) => l.startsWith('error')) ?? r.stderr}`);
    }
    expect(failures).toEqual([]);
  });

  it('has shellcheck-clean shell scripts', async () => {
    const scripts = ['kernel/make-config', 'certs/make-dev-keys', 'packages/build-outputs'].map((f) => join(flakeDir, f));
    const r = await run('shellcheck', ['-S', 'warning', '-x', ...scripts]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('name only device-scripts source files that exist', () => {
    const missing: string[] = [];
    let count = 0;
    const scripts = ['packages/build-outputs', 'certs/make-dev-keys', 'mise.toml'].map((f) => join(flakeDir, f));
    for (const file of [...nixFiles(flakeDir), ...scripts]) {
      for (const ref of sourceRefs(file, readText(file))) {
        count += 1;
        if (!existsSync(ref)) missing.push(`${ref.slice(repoRoot.length + 1)} (named in ${file.slice(repoRoot.length + 1)})`);
      }
    }
    expect(count).toBeGreaterThan(8);
    expect(missing).toEqual([]);
  });

  it('name only installed files that device-scripts/install produces', () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of nixFiles(flakeDir)) {
      for (const ref of packageRefs(readText(file))) {
        count += 1;
        if (!existsSync(join(installRoot, PREFIX, ref))) missing.push(`\${pkg}${ref} (named in ${file.slice(repoRoot.length + 1)})`);
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('enable exactly the device-scripts units the test gateway enables, for the same targets', () => {
    const gateway = gatewayEnabledUnits(join(repoRoot, 'device-scripts'));
    const flake = flakeEnabledUnits(moduleFiles(flakeDir).filter((f) => f.includes('/flake/modules/')));
    expect(gateway.size).toBeGreaterThan(8);
    const differences: string[] = [];
    for (const [unit, targets] of gateway) {
      const wired = flake.get(unit);
      if (wired === undefined) differences.push(`${unit}: enabled on the test gateway (${targets.join(' ')}), not by the flake`);
      else if (wired.join(' ') !== targets.join(' '))
        differences.push(`${unit}: test gateway ${targets.join(' ')}, flake ${wired.join(' ')}`);
    }
    for (const [unit, targets] of flake) {
      if (gateway.has(unit) || unit in FLAKE_ONLY_BY_OPTION) continue;
      differences.push(`${unit}: enabled by the flake (${targets.join(' ')}), not on the test gateway`);
    }
    expect(differences).toEqual([]);
    // An exception stays one only while the test gateway really leaves the unit off.
    for (const unit of Object.keys(FLAKE_ONLY_BY_OPTION)) {
      expect(gateway.has(unit), unit).toBe(false);
      expect(flake.has(unit), unit).toBe(true);
    }
  });

  it('reads [Install] targets as systemctl enable does', () => {
    expect(installTargets('[Unit]\nWantedBy=no.target\n[Service]\nExecStart=/x\n')).toBeNull();
    expect(installTargets('[Install]\nWantedBy=b.target a.target\nRequiredBy=c.target\n')).toEqual([
      'a.target',
      'b.target',
      'c.target',
    ]);
  });

  it('installs every tmpfiles entry file device-scripts ships', () => {
    const wired = moduleFiles(flakeDir).flatMap((f) => packageRefs(readText(f)));
    const shipped = readdirSync(join(repoRoot, 'device-scripts/tmpfiles.d')).filter((f) => f.endsWith('.conf'));
    expect(shipped.length).toBeGreaterThan(0);
    for (const name of shipped) expect(wired, name).toContain(`/lib/tmpfiles.d/${name}`);
  });

  it('enable only units the package ships', () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of moduleFiles(flakeDir)) {
      for (const unit of packagedUnits(optionPaths(readText(file)))) {
        count += 1;
        if (!existsSync(join(installRoot, PREFIX, 'lib/systemd/system', unit))) missing.push(`${unit} (enabled in ${file.slice(repoRoot.length + 1)})`);
      }
    }
    expect(count).toBeGreaterThan(3);
    expect(missing).toEqual([]);
  });
});
