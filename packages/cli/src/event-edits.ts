// `--set path=value`: change one field of an event before it is signed. Paths are dot-separated
// from the event's root (`data.object.amount_due`, `data.object.lines.data.0.amount`); values
// are JSON when they parse as JSON (5000, true, null, {"a":1}, "\"5000\""), else plain strings.
import { CliError } from './command.js';
import { didYouMean } from './suggest.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'string' ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}` : `${typeof value} ${JSON.stringify(value)}`;
}

function fieldsOf(node: Json | unknown[]): string {
  const keys = Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node);
  return keys.length > 14 ? `${keys.slice(0, 14).join(', ')} and ${keys.length - 14} more` : keys.join(', ');
}

/** Applies one `path=value` to the event (in place). Throws CliError (exit 2) naming what is wrong. */
export function applySet(event: Json, assignment: string): void {
  const eq = assignment.indexOf('=');
  const path = eq < 0 ? '' : assignment.slice(0, eq).trim();
  if (!path) throw new CliError(`--set ${assignment}: expected path=value, e.g. --set data.object.amount_due=5000.`, 2);
  const segments = path.split('.');
  if (segments.some((s) => s === '')) throw new CliError(`--set ${assignment}: "${path}" has an empty segment; separate fields with single dots.`, 2);
  const value = parseValue(assignment.slice(eq + 1));
  const where = `in this ${String(event.type)} event`;
  let node: Json | unknown[] = event;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const at = segments.slice(0, i + 1).join('.');
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      const index = /^\d+$/.test(segment) ? Number(segment) : NaN;
      if (!(index < node.length)) {
        throw new CliError(`--set ${path}: ${segments.slice(0, i).join('.')} is a list of ${node.length}; "${segment}" is not an index in it (0 to ${node.length - 1}).`, 2);
      }
      if (last) {
        node[index] = value;
        return;
      }
      const child: unknown = node[index];
      if (!isObject(child) && !Array.isArray(child)) throw new CliError(`--set ${path}: ${at} is ${describe(child)} ${where}, not an object to set fields in.`, 2);
      node = child;
      continue;
    }
    // New keys only in maps the user owns (metadata); elsewhere a new key is almost always a typo.
    const parent = segments[i - 1];
    const open = parent === 'metadata' || parent === 'previous_attributes';
    if (!Object.hasOwn(node, segment) && !(last && open)) {
      throw new CliError(`--set ${path}: ${at} does not exist ${where}.${didYouMean(segment, Object.keys(node))} Fields there: ${fieldsOf(node)}.`, 2);
    }
    if (last) {
      node[segment] = value;
      return;
    }
    const child: unknown = node[segment];
    if (!isObject(child) && !Array.isArray(child)) throw new CliError(`--set ${path}: ${at} is ${describe(child)} ${where}, not an object to set fields in.`, 2);
    node = child;
  }
}
