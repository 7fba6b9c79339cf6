// A small typed builder for declaring a JSON document once: each field's type, whether it must be
// there, whether it may be null, and its documentation. From one declaration come the TypeScript
// type (Infer), the reader (readDocument) and the reference table (fieldTable). The status
// document's declaration is schema.ts.
//
// Reading rules (docs/status-schema.md):
// - a required field that is missing, or any field of the wrong type, rejects the document, naming
//   the field;
// - an optional field that is missing reads as null (or its `missing` default) and gets the note
//   "not reported by this gateway";
// - a value outside an enum reads as null and gets a note naming the value, so one new state does
//   not hide the rest of the document;
// - fields the declaration does not know are kept, at every level.

export type Node =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'count' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'array'; readonly item: Node }
  | { readonly kind: 'record'; readonly value: Node }
  | { readonly kind: 'object'; readonly fields: Fields };

export interface Field<N extends Node = Node> {
  readonly type: N;
  /** Missing rejects the document. Only fields every gateway of the version prints are required. */
  readonly required?: boolean;
  /** The gateway may print null here (it could not read the value, or null has a meaning). */
  readonly nullable?: boolean;
  /** A missing optional field reads as this instead of null: `[]` for arrays, `{}` for objects. */
  readonly missing?: 'empty';
  /** What the field means and where the gateway reads it from (the reference table's text). */
  readonly doc: string;
  /** What null means, when it means more than "could not read it". */
  readonly nullMeans?: string;
}

export type Fields = Readonly<Record<string, Field>>;

export const string = { kind: 'string' } as const;
export const number = { kind: 'number' } as const;
/** A whole number ≥ 0. */
export const count = { kind: 'count' } as const;
export const boolean = { kind: 'boolean' } as const;
export const literal = <const V extends string>(value: V) => ({ kind: 'literal', value }) as const;
export const oneOf = <const V extends readonly string[]>(...values: V) => ({ kind: 'enum', values }) as const;
export const arrayOf = <const I extends Node>(item: I) => ({ kind: 'array', item }) as const;
export const recordOf = <const V extends Node>(value: V) => ({ kind: 'record', value }) as const;
export const object = <const F extends Fields>(fields: F) => ({ kind: 'object', fields }) as const;

/** The TypeScript type of a value of this node. An enum may read as null (a value it does not know). */
export type Infer<N extends Node> = N extends { kind: 'string' }
  ? string
  : N extends { kind: 'number' | 'count' }
    ? number
    : N extends { kind: 'boolean' }
      ? boolean
      : N extends { kind: 'literal'; value: infer V }
        ? V
        : N extends { kind: 'enum'; values: readonly (infer V)[] }
          ? V | null
          : N extends { kind: 'array'; item: infer I extends Node }
            ? Infer<I>[]
            : N extends { kind: 'record'; value: infer V extends Node }
              ? Record<string, Infer<V>>
              : N extends { kind: 'object'; fields: infer F extends Fields }
                ? InferFields<F>
                : never;

/** null when the gateway may print it, or when an older gateway may leave it out. */
type FieldNull<F extends Field> = F extends { nullable: true }
  ? null
  : F extends { required: true }
    ? never
    : F extends { missing: 'empty' }
      ? never
      : null;

export type InferField<F extends Field> = Infer<F['type']> | FieldNull<F>;

export type InferFields<F extends Fields> = { -readonly [K in keyof F]: InferField<F[K]> };

/** Why a field the console knows is null although the gateway's `errors` does not say. */
export interface ReadNote {
  /** Dotted path, with array indexes: `leases[3].expiresAt`. */
  field: string;
  reason: string;
}

export const NOT_REPORTED = 'not reported by this gateway';

export class InvalidDocument extends Error {}

/** What a field holds, as the reference table and the rejection messages say it. */
export function describeNode(node: Node): string {
  switch (node.kind) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'count':
      return 'a whole number ≥ 0';
    case 'boolean':
      return 'true or false';
    case 'literal':
      return `"${node.value}"`;
    case 'enum':
      return `one of ${node.values.join(', ')}`;
    case 'array':
      return 'an array';
    case 'record':
    case 'object':
      return 'an object';
  }
}

function shownValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new InvalidDocument(`${path}: expected ${expected}, got ${shownValue(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A value read twice: `value` as the console uses it (typed; unknown enum values null) and `json`
 * as `--json` passes it on (the gateway's own values, missing fields as null).
 */
interface Read {
  value: unknown;
  json: unknown;
}

function readNode(
  node: Node,
  raw: unknown,
  path: string,
  notes: ReadNote[],
  describe: (v: unknown) => string,
): Read {
  const same = (v: unknown): Read => ({ value: v, json: v });
  switch (node.kind) {
    case 'string':
      if (typeof raw !== 'string') fail(path, describeNode(node), raw);
      return same(raw);
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) fail(path, describeNode(node), raw);
      return same(raw);
    case 'count':
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) fail(path, describeNode(node), raw);
      return same(raw);
    case 'boolean':
      if (typeof raw !== 'boolean') fail(path, describeNode(node), raw);
      return same(raw);
    case 'literal':
      if (raw !== node.value) fail(path, describeNode(node), raw);
      return same(raw);
    case 'enum':
      if (typeof raw !== 'string') fail(path, `${describeNode(node)} (a string)`, raw);
      if (node.values.includes(raw)) return same(raw);
      notes.push({
        field: path,
        reason: `unknown value ${describe(raw)} (this console knows ${node.values.join(', ')})`,
      });
      return { value: null, json: raw };
    case 'array': {
      if (!Array.isArray(raw)) fail(path, describeNode(node), raw);
      const items = raw.map((item, i) => readNode(node.item, item, `${path}[${i}]`, notes, describe));
      return { value: items.map((r) => r.value), json: items.map((r) => r.json) };
    }
    case 'record': {
      if (!isObject(raw)) fail(path, describeNode(node), raw);
      const value: Record<string, unknown> = {};
      const json: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(raw)) {
        const r = readNode(node.value, item, `${path}.${key}`, notes, describe);
        value[key] = r.value;
        json[key] = r.json;
      }
      return { value, json };
    }
    case 'object':
      if (!isObject(raw)) fail(path, describeNode(node), raw);
      return readFields(node.fields, raw, path, notes, describe);
  }
}

function readFields(
  fields: Fields,
  raw: Record<string, unknown>,
  path: string,
  notes: ReadNote[],
  describe: (v: unknown) => string,
): Read {
  // Unknown fields first, as they came; the known ones read on top of them.
  const value: Record<string, unknown> = { ...raw };
  const json: Record<string, unknown> = { ...raw };
  for (const [name, field] of Object.entries(fields)) {
    const at = path ? `${path}.${name}` : name;
    const got = raw[name];
    let r: Read;
    if (got === undefined && !field.required) {
      notes.push({ field: at, reason: NOT_REPORTED });
      r =
        field.missing === 'empty'
          ? readNode(field.type, field.type.kind === 'array' ? [] : {}, at, [], describe)
          : { value: null, json: null };
    } else if (got === null && (field.nullable || (!field.required && field.missing !== 'empty'))) {
      r = { value: null, json: null };
    } else {
      r = readNode(field.type, got, at, notes, describe);
    }
    value[name] = r.value;
    json[name] = r.json;
  }
  return { value, json };
}

/**
 * Reads a document against its declaration (root fields of an object). Throws InvalidDocument
 * naming the first bad field. `describe` turns a value the console does not know into note text
 * (the caller makes it safe to show).
 */
export function readDocument<F extends Fields>(
  fields: F,
  raw: unknown,
  describe: (value: unknown) => string,
): { value: InferFields<F>; json: Record<string, unknown>; notes: ReadNote[] } {
  if (!isObject(raw)) fail('status', 'an object', raw);
  const notes: ReadNote[] = [];
  const r = readFields(fields, raw, '', notes, describe);
  return { value: r.value as InferFields<F>, json: r.json as Record<string, unknown>, notes };
}

function typeText(field: Field): string {
  const node = field.type;
  const base = (n: Node): string => {
    switch (n.kind) {
      case 'string':
        return 'string';
      case 'number':
        return 'number';
      case 'count':
        return 'whole number ≥ 0';
      case 'boolean':
        return 'boolean';
      case 'literal':
        return `\`"${n.value}"\``;
      case 'enum':
        return n.values.map((v) => `\`"${v}"\``).join(' \\| ');
      case 'array':
        return n.item.kind === 'object' ? 'array of objects' : `array of ${base(n.item)}`;
      case 'record':
        return `object of ${base(n.value)}`;
      case 'object':
        return 'object';
    }
  };
  return `${base(node)}${field.nullable ? ' \\| null' : ''}`;
}

function presenceText(field: Field): string {
  if (field.required) return 'required';
  if (field.missing === 'empty')
    return `optional (missing: ${field.type.kind === 'array' ? '`[]`' : 'all null'})`;
  return 'optional';
}

/** One Markdown table row per field, nested fields under their parent (`rauc.slots[].bootname`). */
export function fieldTable(fields: Fields): string {
  const rows: string[] = ['| field | type | presence | meaning and source |', '| --- | --- | --- | --- |'];
  const walk = (fs: Fields, prefix: string) => {
    for (const [name, field] of Object.entries(fs)) {
      const path = `${prefix}${name}`;
      const doc = field.nullMeans ? `${field.doc} null: ${field.nullMeans}.` : field.doc;
      rows.push(
        `| \`${path}\` | ${typeText(field)} | ${presenceText(field)} | ${doc.replace(/\|/g, '\\|')} |`,
      );
      let inner: Node = field.type;
      let suffix = '';
      while (inner.kind === 'array') {
        inner = inner.item;
        suffix += '[]';
      }
      if (inner.kind === 'object') walk(inner.fields, `${path}${suffix}.`);
    }
  };
  walk(fields, '');
  return rows.join('\n');
}
