// The shape of the bad-input corpus files (packages/reliability/corpus/*.json), checked when loaded.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Where the corpus lives in the repository. */
export const corpusDir = fileURLToPath(new URL('../corpus/', import.meta.url));

const json: z.ZodType<unknown> = z.unknown();

/** How a body's JSON is written out: spacing, key order, escapes, padding. */
export const serializeSchema = z.strictObject({
  indent: z.union([z.number().int().min(0).max(10), z.string()]).optional(),
  sortKeys: z.boolean().optional(),
  reverseKeys: z.boolean().optional(),
  /** Escape every non-ASCII character as \uXXXX. */
  asciiOnly: z.boolean().optional(),
  /** Escape "/" as "\/" (valid JSON, different bytes). */
  escapeSlashes: z.boolean().optional(),
  /** Line ending for indented output. */
  newline: z.string().optional(),
  /** Grow the body to exactly this many bytes with a `padding` string in `data.object` (or at the root). */
  padTo: z.number().int().positive().optional(),
});
export type SerializeOptions = z.infer<typeof serializeSchema>;

/** A byte-level edit of the serialized body. */
export const editSchema = z.union([
  z.strictObject({ replace: z.string(), with: z.string().optional(), withHex: z.string().optional() }),
  z.strictObject({ append: z.string() }),
  z.strictObject({ appendHex: z.string() }),
  z.strictObject({ prepend: z.string() }),
  z.strictObject({ prependHex: z.string() }),
  z.strictObject({ truncate: z.number().int().positive() }),
  z.strictObject({ reserialize: serializeSchema }),
]);
export type BodyEdit = z.infer<typeof editSchema>;

/** Where the body starts: an event built from Stripe's fixtures, inline JSON, text or raw bytes. */
export const bodySchema = z.union([
  z.strictObject({
    /** Event type; `data.object` is Stripe's example object for its resource (@stripe-flows/testing). */
    event: z.string(),
    /** `failedInvoice`: an open invoice that failed payment instead of the fixture invoice. */
    object: z.enum(['fixture', 'failedInvoice']).optional(),
    resource: z.string().optional(),
    /** Fields merged over `data.object`. */
    merge: z.record(z.string(), json).optional(),
  }),
  z.strictObject({ json }),
  z.strictObject({ text: z.string() }),
  z.strictObject({ hex: z.string() }),
  z.strictObject({ base64: z.string() }),
  z.strictObject({ empty: z.literal(true) }),
]);
export type BodySpec = z.infer<typeof bodySchema>;

/** A change to the JSON value before it is serialized; `path` is dotted, or an array of keys. */
export const mutationSchema = z.union([
  z.strictObject({ set: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]), value: json }),
  z.strictObject({ delete: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]) }),
]);
export type Mutation = z.infer<typeof mutationSchema>;

/**
 * How the request is signed. `secret`: `configured` (the receiver's platform secret), `connect`
 * (its second secret), `wrong` (a secret it does not have), `none` (no header), or a literal.
 * `header`: one template or several (duplicated header); `{t}`, `{v1}`, `{v1_wrong}`,
 * `{v1_connect}`, `{v1_upper}`, `{now}` are filled in. Default `t={t},v1={v1}`.
 */
export const signingSchema = z.strictObject({
  secret: z.string().optional(),
  timestampOffset: z.number().int().optional(),
  timestamp: z.number().int().optional(),
  header: z.union([z.string(), z.array(z.string())]).optional(),
});
export type SigningSpec = z.infer<typeof signingSchema>;

/** How the bytes travel: framing, slow drip, stalls, or a hand-written request head. */
export const transportSchema = z.strictObject({
  chunked: z.boolean().optional(),
  /** Declared Content-Length instead of the real one. */
  contentLength: z.number().int().nonnegative().optional(),
  /** Send the body this many bytes at a time, waiting between chunks. */
  drip: z.strictObject({ chunkBytes: z.number().int().positive(), intervalMs: z.number().int().nonnegative() }).optional(),
  /** Send the head this way too. */
  headDrip: z.strictObject({ chunkBytes: z.number().int().positive(), intervalMs: z.number().int().nonnegative() }).optional(),
  /** Stop sending after this many body bytes and wait for the answer. */
  stallAfterBodyBytes: z.number().int().nonnegative().optional(),
  /** Send all of the body but its last this many bytes, then wait. */
  withholdLastBodyBytes: z.number().int().positive().optional(),
  /** Stop sending in the middle of the head (after this many bytes of it). */
  stallAfterHeadBytes: z.number().int().nonnegative().optional(),
  /** The request head, lines without CRLF, `{length}` and `{host}` filled in; replaces the generated one. */
  rawHead: z.array(z.string()).optional(),
});
export type TransportSpec = z.infer<typeof transportSchema>;

/**
 * What the receiver must answer. Errors: status, `code`, and substrings of the message or a
 * `details` line. 200s: `outcome` is `not_routed` (`ignored: true`, no route for the type),
 * `ignored` (every route's result is ignored) or `quarantined` (every route's result).
 */
export const expectSchema = z.strictObject({
  status: z.number().int(),
  code: z.string().optional(),
  message: z.string().optional(),
  detail: z.string().optional(),
  outcome: z.enum(['not_routed', 'ignored', 'quarantined']).optional(),
});
export type CorpusExpectation = z.infer<typeof expectSchema>;

const caseFields = {
  description: z.string().optional(),
  body: bodySchema.optional(),
  mutations: z.array(mutationSchema).optional(),
  serialize: serializeSchema.optional(),
  edits: z.array(editSchema).optional(),
  signing: signingSchema.optional(),
  afterSigning: z.array(editSchema).optional(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.null()])).optional(),
  transport: transportSchema.optional(),
  /** Merged over the defaults'; null removes a field set there. */
  expect: z
    .strictObject({
      status: z.number().int().optional(),
      code: z.string().nullable().optional(),
      message: z.string().nullable().optional(),
      detail: z.string().nullable().optional(),
      outcome: expectSchema.shape.outcome.unwrap().nullable().optional(),
    })
    .optional(),
};

const variantSchema = z.strictObject({ name: z.string().min(1), ...caseFields });
export type CorpusVariant = z.infer<typeof variantSchema>;

/** A case, or (with `variants`) a rule that expands into one case per variant. */
export const caseSchema = z.strictObject({ name: z.string().min(1), ...caseFields, variants: z.array(variantSchema).min(1).optional() });
export type CorpusCaseSpec = z.infer<typeof caseSchema>;

/** Which receiver a file's cases are meant for. */
export const corpusTargets = ['temporal-available', 'temporal-unavailable'] as const;
export type CorpusTargetKind = (typeof corpusTargets)[number];

export const corpusFileSchema = z.strictObject({
  $comment: z.string().optional(),
  category: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string(),
  target: z.enum(corpusTargets).default('temporal-available'),
  /** Fields every case of the file starts from (merged like a variant). */
  defaults: variantSchema.omit({ name: true }).optional(),
  cases: z.array(caseSchema).min(1),
});
export type CorpusFile = z.infer<typeof corpusFileSchema>;

/** The receiver settings the corpus's expectations assume (corpus/receiver.json). */
export const corpusReceiverSchema = z.strictObject({
  $comment: z.string().optional(),
  secrets: z.strictObject({ configured: z.string().startsWith('whsec_'), connect: z.string().startsWith('whsec_'), wrong: z.string() }),
  mode: z.enum(['test', 'live']),
  toleranceSeconds: z.number().int().positive(),
  bodyLimit: z.string(),
  bodyLimitBytes: z.number().int().positive(),
  requestTimeoutMs: z.number().int().positive(),
  dispatchDeadlineMs: z.number().int().positive(),
});
export type CorpusReceiverSettings = z.infer<typeof corpusReceiverSchema>;

/** One concrete request of the corpus: every expansion applied, defaults merged. */
export interface CorpusCase {
  name: string;
  category: string;
  target: CorpusTargetKind;
  description?: string;
  body: BodySpec;
  mutations: Mutation[];
  serialize?: SerializeOptions;
  edits: BodyEdit[];
  signing: SigningSpec;
  afterSigning: BodyEdit[];
  headers: Record<string, string | string[] | null>;
  transport: TransportSpec;
  expect: CorpusExpectation;
}

export interface Corpus {
  dir: string;
  receiver: CorpusReceiverSettings;
  cases: CorpusCase[];
}

type Layer = Omit<CorpusVariant, 'name'>;

/** Later layers win; lists of mutations and edits add up; headers and nested objects merge. */
function mergeLayers(layers: Layer[]): Layer {
  const out: Layer = {};
  for (const layer of layers) {
    if (layer.description !== undefined) out.description = layer.description;
    if (layer.body !== undefined) out.body = layer.body;
    if (layer.mutations) out.mutations = [...(out.mutations ?? []), ...layer.mutations];
    if (layer.serialize) out.serialize = { ...out.serialize, ...layer.serialize };
    if (layer.edits) out.edits = [...(out.edits ?? []), ...layer.edits];
    if (layer.signing) out.signing = { ...out.signing, ...layer.signing };
    if (layer.afterSigning) out.afterSigning = [...(out.afterSigning ?? []), ...layer.afterSigning];
    if (layer.headers) out.headers = { ...out.headers, ...layer.headers };
    if (layer.transport) out.transport = { ...out.transport, ...layer.transport };
    if (layer.expect) out.expect = { ...out.expect, ...layer.expect };
  }
  return out;
}

/** Expand a file's cases (defaults, then the case, then each variant) into concrete requests. */
export function expandCorpusFile(file: CorpusFile, source = file.category): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const spec of file.cases) {
    const { name, variants, ...base } = spec;
    for (const variant of variants ?? [{ name: '' }]) {
      const { name: variantName, ...layer } = variant;
      const merged = mergeLayers([file.defaults ?? {}, base, layer]);
      const fullName = `${file.category}/${name}${variantName ? `/${variantName}` : ''}`;
      const expectation = expectSchema.safeParse(Object.fromEntries(Object.entries(merged.expect ?? {}).filter(([, v]) => v !== null)));
      if (!expectation.success) throw new Error(`Corpus case ${fullName} (${source}) has no complete expectation: give it expect.status.`);
      if (!merged.body) throw new Error(`Corpus case ${fullName} (${source}) has no body: give it body (or set one in the file's defaults).`);
      cases.push({
        name: fullName,
        category: file.category,
        target: file.target,
        ...(merged.description !== undefined ? { description: merged.description } : {}),
        body: merged.body,
        mutations: merged.mutations ?? [],
        ...(merged.serialize ? { serialize: merged.serialize } : {}),
        edits: merged.edits ?? [],
        signing: merged.signing ?? {},
        afterSigning: merged.afterSigning ?? [],
        headers: merged.headers ?? {},
        transport: merged.transport ?? {},
        expect: expectation.data,
      });
    }
  }
  return cases;
}

/** Load and check every corpus file; names must be unique across the corpus. */
export function loadCorpus(dir: string = corpusDir): Corpus {
  const readJson = (name: string): unknown => {
    try {
      return JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch (error) {
      throw new Error(`Corpus file ${join(dir, name)} is not readable JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const receiver = corpusReceiverSchema.safeParse(readJson('receiver.json'));
  if (!receiver.success) throw new Error(`${join(dir, 'receiver.json')} is invalid: ${z.prettifyError(receiver.error)}`);
  const cases: CorpusCase[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'receiver.json').sort()) {
    const file = corpusFileSchema.safeParse(readJson(name));
    if (!file.success) throw new Error(`Corpus file ${join(dir, name)} is invalid: ${z.prettifyError(file.error)}`);
    cases.push(...expandCorpusFile(file.data, name));
  }
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`Corpus case name ${c.name} is used twice; names must be unique.`);
    seen.add(c.name);
  }
  return { dir, receiver: receiver.data, cases };
}
