// A small, honest reader for the flake's Nix files: enough to list the NixOS option paths a
// module sets and the device-scripts files it refers to. It tokenizes Nix (strings with nested
// interpolation, comments, path literals), finds the module's body attribute set and records the
// attribute path of every binding at "config level" without descending into values:
//   - `config = <expr>`: every attribute set literal reached through function application,
//     lists or parentheses only (`lib.mkIf c { … }`, `lib.mkMerge [ { … } ]`) is a config set;
//   - `config.a.b = v` and, in a module without `config`/`options`, every top-level binding;
//   - `options`, `imports`, `meta` are skipped.
// Assigning a whole set (`services.x = { … }`) records `services.x`; `services.x.enable = true`
// records `services.x.enable`. The table in flake/OPTIONS.md lists exactly these paths.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

type TokenKind = 'name' | 'string' | 'dyn' | 'path' | 'punct' | 'other';
interface Token {
  kind: TokenKind;
  text: string;
}

const NAME_RE = /[A-Za-z_][A-Za-z0-9_'-]*/y;
const PATH_RE = /(?:\.{0,2}|~)(?:\/[A-Za-z0-9._+-]+)+/y;

/** Index just past the `}` closing an interpolation whose `${` ends at `start`. */
function skipInterpolation(src: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < src.length && depth > 0) {
    const c = src[i];
    if (c === '"') i = skipDoubleString(src, i + 1);
    else if (c === "'" && src[i + 1] === "'") i = skipIndentedString(src, i + 2);
    else if (c === '#') i = skipLineComment(src, i);
    else if (c === '/' && src[i + 1] === '*') i = src.indexOf('*/', i + 2) + 2;
    else {
      if (c === '{') depth += 1;
      else if (c === '}') depth -= 1;
      i += 1;
    }
  }
  if (depth !== 0) throw new Error('unterminated ${ … } interpolation');
  return i;
}

function skipDoubleString(src: string, start: number): number {
  let i = start;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else if (c === '$' && src[i + 1] === '{') i = skipInterpolation(src, i + 2);
    else i += 1;
  }
  throw new Error('unterminated string');
}

function skipIndentedString(src: string, start: number): number {
  let i = start;
  while (i < src.length) {
    if (src.startsWith("'''", i) || src.startsWith("''$", i) || src.startsWith("''\\", i)) i += 3;
    else if (src.startsWith("''", i)) return i + 2;
    else if (src[i] === '$' && src[i + 1] === '{') i = skipInterpolation(src, i + 2);
    else i += 1;
  }
  throw new Error("unterminated '' string");
}

function skipLineComment(src: string, start: number): number {
  const end = src.indexOf('\n', start);
  return end === -1 ? src.length : end;
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      i = skipLineComment(src, i);
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw new Error('unterminated comment');
      i = end + 2;
    } else if (c === '"') {
      const end = skipDoubleString(src, i + 1);
      tokens.push({ kind: 'string', text: src.slice(i, end) });
      i = end;
    } else if (c === "'" && src[i + 1] === "'") {
      const end = skipIndentedString(src, i + 2);
      tokens.push({ kind: 'string', text: src.slice(i, end) });
      i = end;
    } else if (c === '$' && src[i + 1] === '{') {
      const end = skipInterpolation(src, i + 2);
      tokens.push({ kind: 'dyn', text: src.slice(i, end) });
      i = end;
    } else {
      PATH_RE.lastIndex = i;
      const path = PATH_RE.exec(src);
      if (path && path[0].includes('/') && (c === '.' || c === '/' || c === '~')) {
        tokens.push({ kind: 'path', text: path[0] });
        i += path[0].length;
        continue;
      }
      NAME_RE.lastIndex = i;
      const name = NAME_RE.exec(src);
      if (name) {
        tokens.push({ kind: 'name', text: name[0] });
        i += name[0].length;
      } else if ('{}[]();=.:,?@'.includes(c)) {
        tokens.push({ kind: 'punct', text: c });
        i += 1;
      } else {
        tokens.push({ kind: 'other', text: c });
        i += 1;
      }
    }
  }
  return tokens;
}

const OPEN = new Set(['{', '[', '(']);
const CLOSE = new Set(['}', ']', ')']);

function isPunct(t: Token | undefined, p: string): boolean {
  return t !== undefined && t.kind === 'punct' && t.text === p;
}

/** Index of the token that closes the bracket opened at `open`. */
function matching(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i += 1) {
    const t = tokens[i];
    if (t?.kind !== 'punct') continue;
    if (OPEN.has(t.text)) depth += 1;
    else if (CLOSE.has(t.text)) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new Error('unbalanced brackets');
}

interface Binding {
  path: string[];
  valueStart: number;
  valueEnd: number; // index of the terminating `;`
}

/** Bindings of the attribute set whose `{` is at `open`. */
function bindings(tokens: Token[], open: number): Binding[] {
  const close = matching(tokens, open);
  const result: Binding[] = [];
  let i = open + 1;
  while (i < close) {
    const t = tokens[i];
    if (t?.kind === 'name' && t.text === 'inherit') {
      while (i < close && !isPunct(tokens[i], ';')) i += 1;
      i += 1;
      continue;
    }
    const path: string[] = [];
    while (i < close && !isPunct(tokens[i], '=')) {
      const part = tokens[i];
      if (part === undefined) break;
      if (!isPunct(part, '.')) path.push(part.kind === 'string' ? part.text : part.text);
      i += 1;
    }
    const valueStart = i + 1;
    let j = valueStart;
    while (j < close && !isPunct(tokens[j], ';')) {
      const v = tokens[j];
      j = v?.kind === 'punct' && OPEN.has(v.text) ? matching(tokens, j) + 1 : j + 1;
    }
    if (path.length > 0) result.push({ path, valueStart, valueEnd: j });
    i = j + 1;
  }
  return result;
}

/** Attribute sets reached from an expression through application, lists and parentheses only. */
function configSets(tokens: Token[], start: number, end: number): number[] {
  const sets: number[] = [];
  let i = start;
  while (i < end) {
    const t = tokens[i];
    if (isPunct(t, '{')) {
      sets.push(i);
      i = matching(tokens, i) + 1;
    } else {
      i += 1;
    }
  }
  return sets;
}

/** The module's body: the last attribute set opened at the outermost level. */
function bodyOpen(tokens: Token[]): number {
  let depth = 0;
  let last = -1;
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i];
    if (t?.kind !== 'punct') continue;
    if (OPEN.has(t.text)) {
      if (depth === 0 && t.text === '{') last = i;
      depth += 1;
    } else if (CLOSE.has(t.text)) depth -= 1;
  }
  if (last === -1) throw new Error('no attribute set found');
  return last;
}

const SKIPPED_TOP = new Set(['options', 'imports', 'meta', 'disabledModules', '_file', 'key']);

export interface OptionBinding {
  /** The option path, as optionPaths lists it. */
  path: string;
  /** The string literals of the bound value, without quotes (`[ "a.target" ]` gives ["a.target"]). */
  strings: string[];
}

/** Every config-level binding of a NixOS module file (own `rk64.*` options excluded). */
export function optionBindings(src: string): OptionBinding[] {
  const tokens = tokenize(src);
  const top = bindings(tokens, bodyOpen(tokens));
  const hasConfig = top.some((b) => b.path[0] === 'config');
  const found: { path: string[]; binding: Binding }[] = [];
  for (const b of top) {
    const head = b.path[0] ?? '';
    if (SKIPPED_TOP.has(head)) continue;
    if (head === 'config' && b.path.length === 1) {
      for (const set of configSets(tokens, b.valueStart, b.valueEnd)) {
        for (const inner of bindings(tokens, set)) found.push({ path: inner.path, binding: inner });
      }
    } else if (head === 'config') {
      found.push({ path: b.path.slice(1), binding: b });
    } else if (!hasConfig) {
      found.push({ path: b.path, binding: b });
    }
  }
  return found
    .map(({ path, binding }) => ({
      path: path.join('.'),
      strings: tokens
        .slice(binding.valueStart, binding.valueEnd)
        .filter((t) => t.kind === 'string' && t.text.startsWith('"'))
        .map((t) => t.text.slice(1, -1)),
    }))
    .filter((b) => b.path !== 'rk64' && !b.path.startsWith('rk64.'));
}

/** Every option path a NixOS module file sets (own `rk64.*` options excluded). */
export function optionPaths(src: string): string[] {
  return optionBindings(src).map((b) => b.path);
}

/** Every `*.nix` file under `dir`, sorted. */
export function nixFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...nixFiles(full));
    else if (entry.endsWith('.nix')) out.push(full);
  }
  return out;
}

/** The NixOS module files of the flake: modules/, hosts/ and the check nodes. */
export function moduleFiles(flakeDir: string): string[] {
  return [
    ...nixFiles(join(flakeDir, 'modules')),
    ...nixFiles(join(flakeDir, 'hosts')),
    ...nixFiles(join(flakeDir, 'checks')).filter((f) => !f.endsWith('/default.nix')),
  ];
}

export interface OptionsTable {
  revision: string | undefined;
  rows: Map<string, { declared: string; file: string }>;
}

/** Rows `| \`path\` | \`declared\` | \`file\` | … |` and the `Pinned revision: \`rev\`` line. */
export function readOptionsTable(markdown: string): OptionsTable {
  const revision = /Pinned revision: `([0-9a-f]{40})`/.exec(markdown)?.[1];
  const rows = new Map<string, { declared: string; file: string }>();
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined && m[3] !== undefined) {
      rows.set(m[1], { declared: m[2], file: m[3] });
    }
  }
  return { revision, rows };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
