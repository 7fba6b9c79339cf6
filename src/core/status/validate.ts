// Reads a status document from a gateway against its declaration (schema.ts, rules in
// declare.ts and docs/status-schema.md): a wrong document gets one message naming the field.
//
// One console reads gateways one version older and newer: a field it knows but the document lacks
// (an older gateway) reads as null with the note "not reported by this gateway"; a value it does
// not know in an enum (a newer gateway's new state) reads as null with a note naming it; fields it
// does not know are kept at every level. The notes ride along with the document (statusNotes) for
// the view; `--json` prints statusJson: the document as the gateway printed it, missing fields as null.
import { Rk64Error } from '../errors.js';
import { printable } from '../printable.js';
import { InvalidDocument, readDocument, type ReadNote } from './declare.js';
import { STATUS_FIELDS, STATUS_SCHEMA, type GatewayStatus } from './schema.js';

const READING = Symbol('rk64.status.reading');

interface Reading {
  notes: readonly ReadNote[];
  json: Record<string, unknown>;
}

type Annotated = GatewayStatus & { [READING]?: Reading };

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return printable(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Why fields are null although the gateway's `errors` does not say (not reported, unknown value). */
export function statusNotes(status: GatewayStatus): readonly ReadNote[] {
  return (status as Annotated)[READING]?.notes ?? [];
}

/** The document for `--json`: the gateway's own values (unknown ones too), missing fields as null. */
export function statusJson(status: GatewayStatus): unknown {
  return (status as Annotated)[READING]?.json ?? status;
}

/** Validate a parsed document; throws Rk64Error('protocol') naming the first bad field. */
export function validateStatus(data: unknown, source = 'gateway'): GatewayStatus {
  try {
    const schema = (data as { schema?: unknown } | null)?.schema;
    if (typeof data === 'object' && data !== null && !Array.isArray(data) && schema !== STATUS_SCHEMA) {
      throw new InvalidDocument(
        `schema: expected "${STATUS_SCHEMA}" (this console understands only that version), got ${
          schema === undefined ? 'missing' : JSON.stringify(schema)
        }`,
      );
    }
    const { value, json, notes } = readDocument(STATUS_FIELDS, data, describeValue);
    // Not enumerable: JSON, spreads and equality see the document alone.
    Object.defineProperty(value, READING, { value: { notes, json } satisfies Reading, enumerable: false });
    return value;
  } catch (error) {
    if (error instanceof InvalidDocument) {
      throw new Rk64Error(
        'protocol',
        `${source}: rk64-status printed an invalid document: ${error.message}`,
        'update the device scripts or the console so both speak rk64.status/1',
      );
    }
    throw error;
  }
}

/** Parse rk64-status output text. */
export function parseStatus(text: string, source = 'gateway'): GatewayStatus {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const start = text.trim().slice(0, 60);
    throw new Rk64Error(
      'protocol',
      `${source}: rk64-status did not print JSON (${(error as Error).message}; output starts ${JSON.stringify(start)})`,
      'run rk64-status on the gateway to see what it prints',
    );
  }
  return validateStatus(data, source);
}
