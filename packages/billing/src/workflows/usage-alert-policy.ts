/**
 * What to do to the customer's subscriptions that bill the alert's meter, beyond notifying:
 * - `none`: notify only.
 * - `cancel_at_period_end`: the subscriptions end at their current period end (undo by setting
 *   `cancel_at_period_end=false` before then).
 * - `pause_collection`: Stripe keeps invoicing but stops collecting payment, with
 *   {@link UsageAlertPolicy.pauseCollectionBehavior} (undo by unsetting `pause_collection`).
 */
export type UsageLimitAction = 'none' | 'cancel_at_period_end' | 'pause_collection';

/** Stripe's `pause_collection.behavior`: what happens to invoices while collection is paused. */
export type PauseCollectionBehavior = 'keep_as_draft' | 'mark_uncollectible' | 'void';

/** Usage alert handling: passed as workflow input, defaults below. */
export interface UsageAlertPolicy {
  /** Tell the customer their usage crossed the alert's threshold. */
  notifyCustomer: boolean;
  /** Tell the operator (always told about late triggers and limit actions, whatever this says). */
  notifyOperator: boolean;
  limitAction: UsageLimitAction;
  /** Used when `limitAction` is `pause_collection`. */
  pauseCollectionBehavior: PauseCollectionBehavior;
  /**
   * Alerts whose triggers take the limit action; others only notify. Empty: every alert. Lets a
   * "warning at 80%" alert notify while a "hard limit" alert acts.
   */
  limitActionAlertIds: string[];
  /**
   * A trigger older than this when its flow starts (Stripe retried it for hours, or it was replayed)
   * is reported to the operator only: no customer notice and no limit action on stale news.
   */
  maxTriggerAgeHours: number;
}

/**
 * Defaults: tell the customer and the operator, take no action. `keep_as_draft` is the pause
 * behavior that loses nothing: invoices wait as drafts for the operator to review.
 */
export const defaultUsageAlertPolicy: UsageAlertPolicy = {
  notifyCustomer: true,
  notifyOperator: true,
  limitAction: 'none',
  pauseCollectionBehavior: 'keep_as_draft',
  limitActionAlertIds: [],
  maxTriggerAgeHours: 24,
};

const LIMIT_ACTIONS: readonly UsageLimitAction[] = ['none', 'cancel_at_period_end', 'pause_collection'];
const PAUSE_BEHAVIORS: readonly PauseCollectionBehavior[] = ['keep_as_draft', 'mark_uncollectible', 'void'];

/** Merge overrides on the defaults and check the result; throws a message naming the bad field. */
export function resolveUsageAlertPolicy(overrides: Partial<UsageAlertPolicy> = {}): UsageAlertPolicy {
  const policy = { ...defaultUsageAlertPolicy, ...overrides };
  const problems: string[] = [];
  if (typeof policy.notifyCustomer !== 'boolean') problems.push('notifyCustomer must be true or false');
  if (typeof policy.notifyOperator !== 'boolean') problems.push('notifyOperator must be true or false');
  if (!LIMIT_ACTIONS.includes(policy.limitAction)) problems.push(`limitAction must be one of ${LIMIT_ACTIONS.join(', ')}`);
  if (!PAUSE_BEHAVIORS.includes(policy.pauseCollectionBehavior)) {
    problems.push(`pauseCollectionBehavior must be one of ${PAUSE_BEHAVIORS.join(', ')}`);
  }
  if (!Array.isArray(policy.limitActionAlertIds) || policy.limitActionAlertIds.some((id) => typeof id !== 'string' || id === '')) {
    problems.push('limitActionAlertIds must be a list of alert ids (empty for every alert)');
  }
  if (!(Number.isFinite(policy.maxTriggerAgeHours) && policy.maxTriggerAgeHours > 0)) problems.push('maxTriggerAgeHours must be a number > 0');
  if (problems.length) throw new Error(`Invalid usage alert policy: ${problems.join('; ')}.`);
  return policy;
}
