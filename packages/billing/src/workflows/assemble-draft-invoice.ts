// Draft invoice assembly: inside Stripe's one-hour draft window, put the customer's pending
// charges on a subscription invoice (add_lines), free or drop what must not bill (remove_lines),
// stamp metadata (update_lines, invoice_metadata), then finalize or leave it to auto-advance.
// Every step is planned from a fresh read of the invoice, so a replay never adds a line twice.
import { ActivityFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { EventInbox, FlowTracker, idempotencyKeyFor, stripeEventSignal, type FlowEvent, activityProfiles, policyFromInput } from '@stripe-flows/core/workflow';
import type { AssemblyActivities } from '../activities/index.js';
import type { PendingCharge } from '../charges.js';
import type { AddLine, DraftInvoiceSnapshot, InvoiceLineSnapshot, RemoveLine, UpdateLine } from '../invoice-lines.js';
import { resolveAssemblyPolicy, type AssemblyPolicy } from './assembly-policy.js';

const stripeRead = proxyActivities<AssemblyActivities>(activityProfiles.stripeRead);
const stripeWrite = proxyActivities<AssemblyActivities>(activityProfiles.stripeWrite);
const notifying = proxyActivities<AssemblyActivities>(activityProfiles.notify);

/** Stripe's ceiling of invoice items on one invoice. */
export const MAX_INVOICE_ITEMS = 250;
/** Line metadata key carrying the charge key, so a charge already added is recognised. */
export const CHARGE_TAG = 'stripe_flows_charge';

/** Same-second tie rule: deleted outranks finalized outranks created. */
export const assemblyEventPrecedence: Readonly<Record<string, number>> = {
  'invoice.created': 0,
  'invoice.finalized': 1,
  'invoice.deleted': 2,
};

export type AssemblyOutcome =
  | 'finalized'
  | 'deleted'
  | 'not_applicable'
  | 'no_longer_draft'
  | 'finalization_not_seen';

export type AssemblyStep = 'reading_invoice' | 'collecting_charges' | 'adding_lines' | 'adjusting_lines' | 'finalizing' | 'awaiting_finalization' | 'ended';

export interface AssemblyDetails extends Record<string, unknown> {
  invoiceId: string;
  customerId: string | null;
  chargesFound: number;
  added: string[];
  rejected: Array<{ source: string; key: string; problems: string[] }>;
  leftOver: string[];
  removed: Array<{ id: string; behavior: 'delete' | 'unassign' }>;
  updated: number;
  outcome?: AssemblyOutcome;
}

export interface AssemblyInput {
  /** Invoice id (`in_...`). */
  objectId: string;
  policy?: Partial<AssemblyPolicy>;
}

export interface AssemblyResult {
  invoiceId: string;
  outcome: AssemblyOutcome;
  added: number;
  removed: number;
  updated: number;
  rejected: number;
  leftOver: number;
}

/** Lines per call, and the idempotency key of a batch: derived from what it carries. */
function batchKey(workflowId: string, step: string, ids: readonly string[]): string {
  return idempotencyKeyFor(workflowId, `${step}:${ids.length}:${ids[0]}..${ids[ids.length - 1]}`);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Charges already on the invoice: by our tag, or by the invoice item a line bills. */
function chargesOnInvoice(lines: readonly InvoiceLineSnapshot[]): Set<string> {
  const present = new Set<string>();
  for (const line of lines) {
    const tag = line.metadata[CHARGE_TAG];
    if (tag) present.add(tag);
    if (line.invoiceItemId) present.add(line.invoiceItemId);
  }
  return present;
}

export async function assembleDraftInvoice(input: AssemblyInput): Promise<AssemblyResult> {
  const policy: AssemblyPolicy = policyFromInput(resolveAssemblyPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const invoiceId = input.objectId;
  const inbox = new EventInbox<unknown>({ precedence: assemblyEventPrecedence });
  setHandler(stripeEventSignal, (event) => void inbox.offer(event as FlowEvent));
  const details: AssemblyDetails = { invoiceId, customerId: null, chargesFound: 0, added: [], rejected: [], leftOver: [], removed: [], updated: 0 };
  const tracker = new FlowTracker<AssemblyStep, AssemblyDetails>(inbox, { step: 'reading_invoice', details });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {

    // The starting event arrives with the start; it tells which account the invoice lives on.
    await condition(() => inbox.hasPending, '10 seconds');
    const account = inbox.peek()[0]?.account;
    const call = () => ({ invoiceId, ...(account ? { account } : {}) });
    let ended: AssemblyOutcome | undefined;
    const applyEvents = () => {
      for (let event = inbox.next(); event; event = inbox.next()) {
        tracker.applied(event.type);
        tracker.record(`event ${event.type}`, event.id);
        if (event.type === 'invoice.finalized') ended = 'finalized';
        if (event.type === 'invoice.deleted') ended = 'deleted';
      }
    };
    const end = (outcome: AssemblyOutcome, summary: string): AssemblyResult => {
      details.outcome = outcome;
      tracker.step('ended', summary);
      tracker.next(undefined);
      tracker.status('completed');
      return {
        invoiceId,
        outcome,
        added: details.added.length,
        removed: details.removed.length,
        updated: details.updated,
        rejected: details.rejected.length,
        leftOver: details.leftOver.length,
      };
    };
    const operatorNotice = (kind: string, step: string, data: Record<string, string | number | boolean | null>) =>
      notifying.notify({
        kind: `assembly.${kind}`,
        recipient: { role: 'operator', ...(details.customerId ? { customerId: details.customerId } : {}) },
        workflowId,
        idempotencyKey: idempotencyKeyFor(workflowId, step),
        data: { invoiceId, ...data },
      });

    let invoice: DraftInvoiceSnapshot = await stripeRead.retrieveDraftInvoice(call());
    details.customerId = invoice.customerId;
    applyEvents();
    if (ended) return end(ended, `Invoice ${invoiceId} was ${ended} before assembly started.`);
    if (invoice.status !== 'draft') return end('not_applicable', `Invoice ${invoiceId} is ${invoice.status}, not a draft: nothing to assemble.`);
    if (!invoice.billingReason || !policy.billingReasons.includes(invoice.billingReason)) {
      return end('not_applicable', `Invoice ${invoiceId} has billing_reason ${invoice.billingReason ?? 'none'}; the policy assembles ${policy.billingReasons.join(', ')}.`);
    }
    tracker.status('acting');

    /**
     * One line call. A call refused because the invoice is no longer a draft (Stripe finalized it
     * when the window closed) ends the flow cleanly; anything else fails it visibly.
     */
    const lineCall = async (what: string, run: () => Promise<unknown>): Promise<'done' | 'no_longer_draft'> => {
      try {
        await run();
        return 'done';
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        invoice = await stripeRead.retrieveDraftInvoice(call());
        if (invoice.status !== 'draft') return 'no_longer_draft';
        tracker.record(`${what} failed`, error.cause?.message ?? error.message);
        tracker.status('failed');
        tracker.step('ended', `${what} failed for ${invoiceId}: ${error.cause?.message ?? error.message}`);
        throw error;
      }
    };
    const invoiceMetadata = Object.keys(policy.invoiceMetadata).length ? { invoiceMetadata: policy.invoiceMetadata } : {};
    let lineCalls = 0;
    const noLongerDraft = async () => {
      await operatorNotice('no_longer_draft', 'no-longer-draft', { added: details.added.length, notAdded: details.chargesFound - details.added.length });
      return end('no_longer_draft', `Invoice ${invoiceId} left draft (${invoice.status}) before assembly finished; ${details.added.length} charge(s) added.`);
    };

    // 1. Pending charges, from every ChargesSource.
    tracker.step('collecting_charges', `Collecting pending charges for ${invoiceId}`);
    const { charges, rejected } = await stripeRead.collectPendingCharges({
      invoiceId,
      customerId: invoice.customerId,
      currency: invoice.currency,
      billingReason: invoice.billingReason,
      ...(account ? { account } : {}),
    });
    details.chargesFound = charges.length;
    details.rejected = rejected;
    if (rejected.length) {
      tracker.record('charges rejected', rejected.map((r) => `${r.key}: ${r.problems.join(', ')}`).join('; '));
      await operatorNotice('charges_rejected', 'charges-rejected', { rejected: rejected.length, keys: rejected.map((r) => r.key).join(',') });
    }

    // 2. Add them, a batch at a time, each batch planned from the invoice as it is now.
    tracker.step('adding_lines', `Adding ${charges.length} pending charge(s) to ${invoiceId}`);
    for (;;) {
      applyEvents();
      if (ended) return end(ended, `Invoice ${invoiceId} was ${ended} during assembly.`);
      const present = chargesOnInvoice(invoice.lines);
      const isPresent = (c: PendingCharge) => present.has(c.key) || (c.line.invoice_item !== undefined && present.has(c.line.invoice_item));
      for (const c of charges) if (isPresent(c) && !details.added.includes(c.key)) details.added.push(c.key);
      const todo = charges.filter((c) => !isPresent(c));
      if (todo.length === 0) break;
      const room = MAX_INVOICE_ITEMS - invoice.lines.filter((l) => l.kind === 'invoice_item').length;
      if (room <= 0) {
        details.leftOver = todo.map((c) => c.key);
        tracker.record('invoice full', `${todo.length} charge(s) wait for a later invoice (${MAX_INVOICE_ITEMS} invoice items at most)`);
        await operatorNotice('over_capacity', 'over-capacity', { leftOver: todo.length, limit: MAX_INVOICE_ITEMS });
        break;
      }
      const batch = todo.slice(0, Math.min(policy.batchSize, room));
      // Assigned invoice items are recognised by their ii_ id; new lines carry the charge key.
      const lines: AddLine[] = batch.map((c) => (c.line.invoice_item ? c.line : { ...c.line, metadata: { ...(c.line.metadata ?? {}), [CHARGE_TAG]: c.key } }));
      const outcome = await lineCall('add_lines', () =>
        stripeWrite.addInvoiceLines({ ...call(), lines, ...invoiceMetadata, idempotencyKey: batchKey(workflowId, 'add-lines', batch.map((c) => c.key)) }),
      );
      if (outcome === 'no_longer_draft') return noLongerDraft();
      lineCalls++;
      tracker.record('add_lines', `${batch.length} line(s)`);
      invoice = await stripeRead.retrieveDraftInvoice(call());
    }

    // 3. Free or drop what must not bill now.
    tracker.step('adjusting_lines', `Adjusting lines of ${invoiceId}`);
    const removals: RemoveLine[] = invoice.lines.flatMap((line): RemoveLine[] => {
      if (line.kind !== 'invoice_item') return [];
      if (policy.holdMetadataKey && line.metadata[policy.holdMetadataKey] === 'true') return [{ id: line.id, behavior: 'unassign' }];
      if (policy.deleteZeroAmountLines && line.amount === 0) return [{ id: line.id, behavior: 'delete' }];
      return [];
    });
    for (const batch of chunks(removals, policy.batchSize)) {
      const outcome = await lineCall('remove_lines', () =>
        stripeWrite.removeInvoiceLines({ ...call(), lines: batch, ...invoiceMetadata, idempotencyKey: batchKey(workflowId, 'remove-lines', batch.map((l) => `${l.id}:${l.behavior}`)) }),
      );
      if (outcome === 'no_longer_draft') return noLongerDraft();
      lineCalls++;
      details.removed.push(...batch.map((l) => ({ id: l.id, behavior: l.behavior })));
      tracker.record('remove_lines', batch.map((l) => `${l.id} (${l.behavior})`).join(', '));
    }
    if (removals.length) invoice = await stripeRead.retrieveDraftInvoice(call());

    // 4. Stamp line metadata. Stripe replaces metadata of subscription lines and merges it on
    //    invoice-item lines, so subscription lines get their whole metadata back plus ours.
    const stamp = policy.lineMetadata;
    const updates: UpdateLine[] = invoice.lines
      .filter((line) => Object.entries(stamp).some(([k, v]) => line.metadata[k] !== v))
      .map((line) => ({ id: line.id, metadata: line.kind === 'subscription' ? { ...line.metadata, ...stamp } : { ...stamp } }));
    for (const batch of chunks(updates, policy.batchSize)) {
      const outcome = await lineCall('update_lines', () =>
        stripeWrite.updateInvoiceLines({ ...call(), lines: batch, ...invoiceMetadata, idempotencyKey: batchKey(workflowId, 'update-lines', batch.map((l) => l.id)) }),
      );
      if (outcome === 'no_longer_draft') return noLongerDraft();
      lineCalls++;
      details.updated += batch.length;
      tracker.record('update_lines', `${batch.length} line(s)`);
    }
    if (lineCalls === 0 && invoiceMetadata.invoiceMetadata) {
      await stripeWrite.stampInvoiceMetadata({ ...call(), metadata: invoiceMetadata.invoiceMetadata, idempotencyKey: idempotencyKeyFor(workflowId, 'invoice-metadata') });
    }

    // 5. Finalize now, or wait for Stripe to finalize on its own.
    applyEvents();
    if (ended) return end(ended, `Invoice ${invoiceId} was ${ended}.`);
    if (policy.completion === 'finalize') {
      tracker.step('finalizing', `Finalizing ${invoiceId}`);
      invoice = await stripeRead.retrieveDraftInvoice(call());
      if (invoice.status !== 'draft') return end('finalized', `Invoice ${invoiceId} was already finalized (${invoice.status}).`);
      await stripeWrite.finalizeInvoice({ ...call(), idempotencyKey: idempotencyKeyFor(workflowId, 'finalize') });
      tracker.record('finalized');
      return end('finalized', `Assembled and finalized ${invoiceId}: ${details.added.length} charge(s) added.`);
    }
    const deadline = Date.now() + policy.awaitFinalizationHours * 60 * 60 * 1000;
    tracker.status('waiting');
    tracker.next('end if Stripe has not finalized', deadline);
    tracker.step('awaiting_finalization', `Assembled ${invoiceId}: ${details.added.length} charge(s) added; Stripe finalizes it (auto-advance).`);
    while (!ended && (await condition(() => inbox.hasPending, Math.max(0, deadline - Date.now())))) applyEvents();
    if (ended) return end(ended, `Invoice ${invoiceId} was ${ended}.`);
    invoice = await stripeRead.retrieveDraftInvoice(call());
    if (invoice.status !== 'draft') return end('finalized', `Invoice ${invoiceId} is ${invoice.status}.`);
    await operatorNotice('finalization_not_seen', 'finalization-not-seen', { hours: policy.awaitFinalizationHours });
    return end('finalization_not_seen', `Invoice ${invoiceId} is still a draft after ${policy.awaitFinalizationHours} h: check its auto_advance setting.`);
  });
}
