// The bad-input corpus (packages/reliability/corpus/) against the receiver in-process with the real
// billing and Connect domains and a real Temporal dev server: every request gets its documented
// answer, no flow workflow starts, nothing answers 5xx, and the receiver stays up. Then the same
// receiver with Temporal gone: 503 temporal_unavailable is the only 5xx there is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCorpusFigures, loadCorpus, runCorpus, type CorpusFigures } from '../src/corpus.js';
import { startCorpusTarget, type CorpusTarget } from '../src/corpus-target.js';

const corpus = loadCorpus();
/** Every kind of bad input issue 5 lists, as corpus categories. */
const categories = [
  'signature-header', 'secret', 'timestamp', 'body-tampering', 'oversized', 'content-type', 'invalid-json', 'not-an-event',
  'envelope-fields', 'data-object', 'livemode', 'event-type', 'api-version', 'large-arrays', 'nesting', 'invalid-utf8', 'slow-drip',
];

function summary(figures: CorpusFigures): string {
  const lines = figures.mismatches.map((m) => `${m.case}: ${m.problems.join('; ')} — got ${m.got.status} ${m.got.code ?? m.got.outcome ?? ''} ${m.got.socketError ?? ''}`);
  return `${figures.mismatches.length} mismatches:\n${lines.join('\n')}`;
}

describe('bad-input corpus, Temporal up', () => {
  let target: CorpusTarget;
  let figures: CorpusFigures;
  beforeAll(async () => {
    target = await startCorpusTarget({ settings: corpus.receiver });
    figures = await runCorpus({ receiverUrl: target.receiverUrl, client: target.client, dispatches: target.dispatches, corpus, ...(process.env['CORPUS_FILTER'] ? { filter: process.env['CORPUS_FILTER'] } : {}) });
    console.log(formatCorpusFigures(figures));
  });
  afterAll(async () => {
    await target?.close();
  });

  it('answers every request as documented', () => {
    expect(figures.mismatches, summary(figures)).toEqual([]);
  });

  it('sends at least 200 distinct requests covering every category', () => {
    if (process.env['CORPUS_FILTER']) return;
    expect(figures.requests).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.cases.map((c) => c.name)).size).toBe(corpus.cases.length);
    for (const category of categories) expect(figures.byCategory[category] ?? 0, category).toBeGreaterThanOrEqual(3);
  });

  it('starts no flow workflow; only the documented quarantine holds', () => {
    expect(figures.flowWorkflowIds).toEqual([]);
    expect(figures.quarantineHolds).toBe(figures.expectedQuarantineHolds);
    expect(figures.dispatches?.results['delivered'] ?? 0).toBe(0);
    expect(figures.dispatches?.results['quarantined'] ?? 0).toBe(figures.expectedQuarantineHolds);
  });

  it('never answers 5xx and stays up', () => {
    expect(figures.serverErrors).toBe(0);
    expect(figures.healthFailures).toEqual([]);
    expect(figures.receiverUp).toBe(true);
  });
});

describe('bad-input corpus, Temporal unavailable', () => {
  it('answers 503 temporal_unavailable only for what needs Temporal, and the rest as usual', async () => {
    const target = await startCorpusTarget({ kind: 'temporal-unavailable', settings: corpus.receiver });
    try {
      const figures = await runCorpus({ receiverUrl: target.receiverUrl, dispatches: target.dispatches, corpus, target: 'temporal-unavailable' });
      expect(figures.mismatches, summary(figures)).toEqual([]);
      expect(figures.byStatus['503']).toBeGreaterThanOrEqual(1);
      expect(figures.unexpectedServerErrors).toBe(0);
      expect(figures.receiverUp).toBe(true);
    } finally {
      await target.close();
    }
  });
});
