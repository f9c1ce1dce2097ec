// Usage alert: a customer's metered usage crossed a billing alert's threshold. Tell the customer
// and the operator (policy), then, if the policy says so, limit the customer's subscriptions that
// bill the alert's meter, re-reading them right before acting. One flow per trigger; it ends once
// the trigger is handled.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  EventInbox,
  FlowTracker,
  idempotencyKeyFor,
  StripeCustomerIdKey,
  StripeObjectIdKey,
  stripeEventSignal,
  type FlowEvent, activityProfiles, policyFromInput, HOUR } from '@stripe-flows/core/workflow';
import type { Notification } from '@stripe-flows/core';
import type { UsageAlertActivities, UsageLimitWrite } from '../activities/alerts.js';
import type { MeteredSubscription, UsageAlertTrigger } from '../schemas.js';
import { resolveUsageAlertPolicy, type UsageAlertPolicy, type UsageLimitAction } from './usage-alert-policy.js';

const stripeRead = proxyActivities<UsageAlertActivities>(activityProfiles.stripeRead);
const stripeWrite = proxyActivities<UsageAlertActivities>(activityProfiles.stripeWrite);
const notifying = proxyActivities<UsageAlertActivities>(activityProfiles.notify);

/** Subscriptions a limit action applies to; others are ended, paused or not yet started. */
const LIMITABLE_STATUSES: ReadonlySet<MeteredSubscription['status']> = new Set(['active', 'trialing', 'past_due', 'unpaid']);

export type UsageAlertStep = 'waiting_for_trigger' | 'notifying' | 'limiting' | 'ended';

/**
 * - `notified`: told whom the policy says; no limit action (policy `none`, or not this alert).
 * - `limited`: every live subscription billing the meter has the limit action (now or before).
 * - `nothing_to_limit`: the policy asked for a limit action, but no live subscription bills the meter.
 * - `reported_late`: the trigger was older than `maxTriggerAgeHours`; only the operator was told.
 */
export type UsageAlertOutcome = 'notified' | 'limited' | 'nothing_to_limit' | 'reported_late';

/** What the limit action did to one subscription. */
export interface SubscriptionLimitResult {
  subscriptionId: string;
  result: 'applied' | 'already_applied' | 'ended_meanwhile' | 'failed';
  detail?: string;
}

export interface UsageAlertDetails extends Record<string, unknown> {
  alertId: string | null;
  customerId: string | null;
  meterId: string | null;
  threshold: number | null;
  value: number | null;
  triggeredAt: string | null;
  late: boolean;
  notified: Array<'customer' | 'operator'>;
  limitAction: UsageLimitAction;
  subscriptions: SubscriptionLimitResult[];
  outcome?: UsageAlertOutcome;
}

export interface UsageAlertInput {
  /** `<alert id>:<customer id>:<trigger created>`: see `routes-alerts-trials.ts`. */
  objectId: string;
  policy?: Partial<UsageAlertPolicy>;
}

export interface UsageAlertResult {
  alertId: string;
  customerId: string;
  outcome: UsageAlertOutcome;
  notified: Array<'customer' | 'operator'>;
  limitAction: UsageLimitAction;
  subscriptions: SubscriptionLimitResult[];
}

export async function handleUsageAlert(input: UsageAlertInput): Promise<UsageAlertResult> {
  const policy: UsageAlertPolicy = policyFromInput(resolveUsageAlertPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const inbox = new EventInbox<UsageAlertTrigger>();
  setHandler(stripeEventSignal, (event) => void inbox.offer(event as FlowEvent<UsageAlertTrigger>));

  let trigger: UsageAlertTrigger | undefined = undefined;
  let late = false;
  let outcome: UsageAlertOutcome | undefined;
  const notified: Array<'customer' | 'operator'> = [];
  const subscriptions: SubscriptionLimitResult[] = [];
  const details = (): UsageAlertDetails => ({
    alertId: trigger?.alertId ?? null,
    customerId: trigger?.customerId ?? null,
    meterId: trigger?.meterId ?? null,
    threshold: trigger?.threshold ?? null,
    value: trigger?.value ?? null,
    triggeredAt: trigger ? new Date(trigger.triggeredAt * 1000).toISOString() : null,
    late,
    notified: [...notified],
    limitAction: policy.limitAction,
    subscriptions: [...subscriptions],
    ...(outcome ? { outcome } : {}),
  });
  const tracker = new FlowTracker<UsageAlertStep, UsageAlertDetails>(inbox, { step: 'waiting_for_trigger', details: details() });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());

    // The trigger arrives with the start (signalWithStart); without it there is nothing to handle.
    if (!(await condition(() => inbox.hasPending, '1 minute'))) {
      tracker.step('ended', 'Started without its billing.alert.triggered event');
      tracker.status('failed');
      throw ApplicationFailure.nonRetryable(
        `No billing.alert.triggered event reached ${workflowId} within a minute of its start. Start this flow through the dispatcher (signalWithStart with the event), not on its own.`,
        'MissingTrigger',
      );
    }
    const first = inbox.next();
    if (!first) throw ApplicationFailure.nonRetryable(`${workflowId} had an event pending but none to apply; this is a bug in handleUsageAlert.`, 'Bug');
    const t: UsageAlertTrigger = first.object;
    trigger = t;
    const account = first.account;
    tracker.applied(first.type);
    tracker.record(`event ${first.type}`, first.id);
    // The workflow id is per trigger; the flow is found in Temporal UI by the alert's own id and the customer's.
    upsertSearchAttributes([
      { key: StripeObjectIdKey, value: t.alertId },
      { key: StripeCustomerIdKey, value: t.customerId },
    ]);
    // Further events here can only be the same trigger under another event id: handled once.
    const dropRepeats = () => {
      for (let e = inbox.next(); e; e = inbox.next()) tracker.record('ignored: same trigger again', e.id);
    };

    const notice = (role: 'customer' | 'operator', kind: string, step: string, extra: Notification['data'] = {}): Notification => ({
      kind: `usage_alert.${kind}`,
      recipient: { role, customerId: t.customerId },
      workflowId,
      idempotencyKey: idempotencyKeyFor(workflowId, step),
      data: {
        alertId: t.alertId,
        alertTitle: t.alertTitle,
        meterId: t.meterId,
        threshold: t.threshold,
        value: t.value,
        triggeredAt: t.triggeredAt,
        ...extra,
      },
    });
    const send = async (n: Notification) => {
      await notifying.notify(n);
      notified.push(n.recipient.role === 'customer' ? 'customer' : 'operator');
      tracker.record(`told ${n.recipient.role}: ${n.kind}`);
    };
    const endWith = (result: UsageAlertOutcome, summary: string): UsageAlertResult => {
      dropRepeats();
      outcome = result;
      refresh();
      tracker.step('ended', summary);
      tracker.status('completed');
      return { alertId: t.alertId, customerId: t.customerId, outcome: result, notified: [...notified], limitAction: policy.limitAction, subscriptions: [...subscriptions] };
    };

    tracker.step('notifying', `Alert ${t.alertId} for ${t.customerId}: ${t.value} >= ${t.threshold ?? '?'}`);
    const ageMs = Date.now() - t.triggeredAt * 1000;
    late = ageMs > policy.maxTriggerAgeHours * HOUR;
    refresh();
    if (late) {
      // Stale news (retried for hours, or replayed): usage may since have reset with a new period.
      await send(notice('operator', 'triggered_late', 'operator-late', { ageHours: Math.floor(ageMs / HOUR) }));
      return endWith('reported_late', `Trigger of ${t.alertId} was ${Math.floor(ageMs / HOUR)} h old: reported to the operator only.`);
    }
    if (policy.notifyCustomer) await send(notice('customer', 'triggered', 'customer-notice'));
    if (policy.notifyOperator) await send(notice('operator', 'triggered', 'operator-notice'));

    const action = policy.limitAction;
    const appliesToAlert = policy.limitActionAlertIds.length === 0 || policy.limitActionAlertIds.includes(t.alertId);
    if (action === 'none' || !appliesToAlert) {
      return endWith('notified', `Alert ${t.alertId} for ${t.customerId}: notified (${notified.join(', ') || 'nobody, by policy'}).`);
    }

    tracker.step('limiting', `Limit action ${action} for ${t.customerId} (meter ${t.meterId ?? 'none'})`);
    tracker.status('acting');
    const call = { customerId: t.customerId, ...(account ? { account } : {}) };
    const meterId = t.meterId;
    // Read the subscriptions as they are now, right before acting.
    const targets = (live: MeteredSubscription[]) =>
      meterId ? live.filter((s) => LIMITABLE_STATUSES.has(s.status) && s.meterIds.includes(meterId)) : [];
    const live = await stripeRead.listCustomerSubscriptionsForUsage(call);
    const chosen = targets(live);
    // Subscriptions with more than 10 items may bill the meter beyond what Stripe embeds: not touched, reported.
    const unchecked = live.filter((s) => LIMITABLE_STATUSES.has(s.status) && s.itemsTruncated && !chosen.includes(s)).map((s) => s.id);
    tracker.record('read subscriptions', `${chosen.length} of ${live.length} bill meter ${meterId ?? '(none)'}`);

    for (const subscription of chosen) {
      const already = alreadyLimited(subscription, action);
      if (already) {
        subscriptions.push({ subscriptionId: subscription.id, result: 'already_applied', detail: already });
        continue;
      }
      const write: UsageLimitWrite = {
        subscriptionId: subscription.id,
        ...(account ? { account } : {}),
        idempotencyKey: idempotencyKeyFor(workflowId, `limit:${action}:${subscription.id}`),
        ...(action === 'cancel_at_period_end' ? { action } : { action, behavior: policy.pauseCollectionBehavior }),
      };
      try {
        await stripeWrite.applyUsageLimit(write);
        subscriptions.push({ subscriptionId: subscription.id, result: 'applied' });
        tracker.record(`limit action ${action}`, subscription.id);
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        subscriptions.push({ subscriptionId: subscription.id, result: 'failed', detail: (error.cause ?? error).message });
      }
    }
    // A write refused by Stripe may mean the subscription ended meanwhile: re-read before calling it a failure.
    if (subscriptions.some((s) => s.result === 'failed')) {
      const still = new Set(targets(await stripeRead.listCustomerSubscriptionsForUsage(call)).map((s) => s.id));
      for (const s of subscriptions) {
        if (s.result === 'failed' && !still.has(s.subscriptionId)) Object.assign(s, { result: 'ended_meanwhile', detail: 'no longer live' });
      }
    }
    refresh();

    const ids = (result: SubscriptionLimitResult['result']) =>
      subscriptions.filter((s) => s.result === result).map((s) => s.subscriptionId).join(',');
    const failed = subscriptions.filter((s) => s.result === 'failed');
    // The operator always hears of a limit action, whatever notifyOperator says.
    await send(
      notice('operator', `limit_action.${action}`, `operator-limit-action:${action}`, {
        action,
        ...(action === 'pause_collection' ? { pauseCollectionBehavior: policy.pauseCollectionBehavior } : {}),
        applied: ids('applied'),
        alreadyApplied: ids('already_applied'),
        endedMeanwhile: ids('ended_meanwhile'),
        failed: ids('failed'),
        notChecked: unchecked.join(','),
      }),
    );
    if (failed.length) {
      tracker.step('ended', `Limit action ${action} failed for ${failed.map((f) => f.subscriptionId).join(', ')}`);
      tracker.status('failed');
      throw ApplicationFailure.nonRetryable(
        `Usage limit action ${action} failed for customer ${t.customerId} on ${failed.map((f) => `${f.subscriptionId} (${f.detail ?? 'no detail'})`).join('; ')}. ` +
          'The operator was told; apply it in the Dashboard, or fix the cause and reset this workflow to retry.',
        'UsageLimitActionFailed',
      );
    }
    return subscriptions.some((s) => s.result === 'applied' || s.result === 'already_applied')
      ? endWith('limited', `Limit action ${action} on ${subscriptions.length} subscription(s) of ${t.customerId}.`)
      : endWith('nothing_to_limit', `No live subscription of ${t.customerId} bills meter ${meterId ?? '(none)'}: nothing to limit.`);
  });
}

/** Why a subscription needs no write: it already has this limit (or an operator's own pause). */
function alreadyLimited(s: MeteredSubscription, action: Exclude<UsageLimitAction, 'none'>): string | undefined {
  if (action === 'cancel_at_period_end' && s.cancelAtPeriodEnd) return 'already cancels at period end';
  // An existing pause, whatever its behavior, was someone's decision: leave it as it is.
  if (action === 'pause_collection' && s.pauseCollectionBehavior) return `collection already paused (${s.pauseCollectionBehavior})`;
  return undefined;
}
