// Onboarding: follow a connected account's requirements until Stripe enables charges and payouts
// with nothing due. While something is due, remind the account on the policy's schedule with a
// link minted at that moment, escalate as the deadline nears, and report why Stripe disabled it.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  EventInbox,
  FlowTracker,
  idempotencyKeyFor,
  stripeEventSignal,
  type EventInboxSnapshot,
  type FlowEvent,
  type FlowState, activityProfiles, DAY, policyFromInput } from '@stripe-flows/core/workflow';
import type { OnboardingActivities } from '../activities/index.js';
import type { AccountSnapshot, CapabilitySnapshot } from '../schemas.js';
import { resolveOnboardingPolicy, type OnboardingPolicy } from './onboarding-policy.js';

const stripeRead = proxyActivities<OnboardingActivities>(activityProfiles.stripeRead);
const notifying = proxyActivities<OnboardingActivities>(activityProfiles.notify);

/** Same-second ties: a capability change is reflected in the account's aggregate; deauthorization ends all. */
export const onboardingEventPrecedence: Readonly<Record<string, number>> = {
  'capability.updated': 1,
  'account.updated': 2,
  'account.application.deauthorized': 3,
};

/** Among same-second account.updated events, the one further along wins (and is confirmed by a read before acting). */
function progress(event: FlowEvent): number {
  if (event.type !== 'account.updated') return 0;
  const a = event.object as AccountSnapshot;
  return (a.detailsSubmitted ? 1 : 0) + (a.chargesEnabled ? 2 : 0) + (a.payoutsEnabled ? 2 : 0);
}

export type OnboardingOutcome = 'onboarded' | 'deauthorized';
export type OnboardingStep = 'reading_account' | 'waiting_for_account' | 'waiting_for_verification' | 'reminding' | 'escalating' | 'ended';

export interface OnboardingDetails extends Record<string, unknown> {
  accountId: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  currentlyDue: string[];
  eventuallyDue: string[];
  pastDue: string[];
  pendingVerification: string[];
  currentDeadline: string | null;
  disabledReason: string | null;
  errors: Array<{ code: string; requirement: string }>;
  capabilities: Record<string, string>;
  dueSince: string | null;
  remindersSent: number;
  escalationsSent: number;
  outcome?: OnboardingOutcome;
}

interface Carried {
  account?: AccountSnapshot;
  capabilities: Record<string, string>;
  dueSince?: number;
  remindersSent: number;
  totalReminders: number;
  escalationsSent: number;
  /** Deadline (unix s) and the day offsets already escalated for it. */
  escalated: { deadline: number | null; offsets: number[] };
  reportedDisabledReason: string | null;
  inbox: EventInboxSnapshot;
  done: FlowState['done'];
}

export interface OnboardingInput {
  /** Connected account id (`acct_...`). */
  objectId: string;
  policy?: Partial<OnboardingPolicy>;
  /** Carried across continue-as-new. */
  carried?: Carried;
}

export interface OnboardingResult {
  accountId: string;
  outcome: OnboardingOutcome;
  remindersSent: number;
  escalationsSent: number;
}

const isDue = (a: AccountSnapshot) => a.requirements.currentlyDue.length > 0 || a.requirements.pastDue.length > 0;
const isComplete = (a: AccountSnapshot) =>
  a.chargesEnabled && a.payoutsEnabled && !isDue(a) && a.requirements.pendingVerification.length === 0;

export async function onboardConnectedAccount(input: OnboardingInput): Promise<OnboardingResult> {
  const policy: OnboardingPolicy = policyFromInput(resolveOnboardingPolicy, input.policy);
  const workflowId = workflowInfo().workflowId;
  const accountId = input.objectId;
  const inbox = new EventInbox({
    precedence: onboardingEventPrecedence,
    tieBreaker: progress,
    ...(input.carried ? { snapshot: input.carried.inbox } : {}),
  });
  setHandler(stripeEventSignal, (event) => void inbox.offer(event));
  // Counts carry over continue-as-new; the bound is on this run's share of history.
  const eventsAtStart = inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale;
  const eventsThisRun = () => inbox.counts.applied + inbox.counts.duplicates + inbox.counts.stale - eventsAtStart;

  const c: Carried = input.carried ?? {
    capabilities: {},
    remindersSent: 0,
    totalReminders: 0,
    escalationsSent: 0,
    escalated: { deadline: null, offsets: [] },
    reportedDisabledReason: null,
    inbox: inbox.snapshot(),
    done: [],
  };
  let account = c.account;
  let outcome: OnboardingOutcome | undefined;
  // When the account was last read from the API: an older event snapshot is not newer news.
  let readAt = 0;
  let needsRead = !account;
  let readThisTurn = false;

  const details = (): OnboardingDetails => {
    const r = account?.requirements;
    return {
      accountId,
      chargesEnabled: account?.chargesEnabled ?? false,
      payoutsEnabled: account?.payoutsEnabled ?? false,
      detailsSubmitted: account?.detailsSubmitted ?? false,
      currentlyDue: r?.currentlyDue ?? [],
      eventuallyDue: r?.eventuallyDue ?? [],
      pastDue: r?.pastDue ?? [],
      pendingVerification: r?.pendingVerification ?? [],
      currentDeadline: r?.currentDeadline ? new Date(r.currentDeadline * 1000).toISOString() : null,
      disabledReason: r?.disabledReason ?? null,
      errors: r?.errors ?? [],
      capabilities: c.capabilities,
      dueSince: c.dueSince !== undefined ? new Date(c.dueSince).toISOString() : null,
      remindersSent: c.totalReminders,
      escalationsSent: c.escalationsSent,
      ...(outcome ? { outcome } : {}),
    };
  };
  const tracker = new FlowTracker<OnboardingStep, OnboardingDetails>(inbox, { step: 'reading_account', details: details(), done: c.done });
  // Any failure from here on ends the flow visibly failed (state query, FlowStatus).
  return tracker.run(async () => {
    const refresh = () => void (tracker.state.details = details());
    const recipient = { role: 'account' as const, accountId };
    const facts = (a: AccountSnapshot) => ({
      accountId,
      currentlyDue: a.requirements.currentlyDue.join(','),
      pastDue: a.requirements.pastDue.join(','),
      currentDeadline: a.requirements.currentDeadline,
      disabledReason: a.requirements.disabledReason,
      chargesEnabled: a.chargesEnabled,
      payoutsEnabled: a.payoutsEnabled,
    });

    /** A whole account snapshot says every capability's status: it replaces what single capability events said. */
    const takeCapabilities = (a: AccountSnapshot): void => {
      if (a.capabilities) c.capabilities = { ...a.capabilities };
    };

    const read = async (): Promise<AccountSnapshot> => {
      tracker.step('reading_account', `Reading ${accountId} from Stripe`);
      readAt = Date.now();
      account = await stripeRead.retrieveAccount({ accountId });
      takeCapabilities(account);
      needsRead = false;
      readThisTurn = true;
      return account;
    };

    const applyEvents = (): void => {
      for (let event = inbox.next(); event; event = inbox.next()) {
        tracker.applied(event.type);
        tracker.record(`event ${event.type}`, event.id);
        if (event.type === 'account.application.deauthorized') {
          outcome = 'deauthorized';
          return;
        }
        if (event.type === 'capability.updated') {
          const capability = event.object as CapabilitySnapshot;
          c.capabilities[capability.id] = capability.status;
          // The account aggregates its capabilities (requirements, statuses): read it rather than merge,
          // since a capability event older than one applied is dropped as stale.
          needsRead = true;
        } else if (event.type === 'account.updated') {
          const readSecond = Math.floor(readAt / 1000);
          if (event.created > readSecond) {
            account = event.object as AccountSnapshot;
            takeCapabilities(account);
          } else if (event.created === readSecond) {
            // Same second as the last read (Stripe's timestamps are whole seconds): either may be
            // the newer one, so read again rather than guess.
            needsRead = true;
          }
        }
      }
    };

    /** Track when something became due, deadline changes, and report a new disabled reason. */
    const observe = async (a: AccountSnapshot): Promise<void> => {
      if (isDue(a)) c.dueSince ??= Date.now();
      else if (c.dueSince !== undefined) {
        c.dueSince = undefined;
        c.remindersSent = 0; // a later requirement starts its own schedule
      }
      const deadline = a.requirements.currentDeadline;
      if (deadline !== c.escalated.deadline) c.escalated = { deadline, offsets: [] };
      const reason = a.requirements.disabledReason;
      if (reason && reason !== c.reportedDisabledReason) {
        c.reportedDisabledReason = reason;
        tracker.record('reported disabled reason', reason);
        const notice = { kind: 'connect.onboarding.disabled', workflowId, data: facts(a) };
        await notifying.notify({ ...notice, recipient, idempotencyKey: idempotencyKeyFor(workflowId, `disabled:${reason}`) });
        if (policy.notifyOperator) {
          await notifying.notify({ ...notice, recipient: { ...recipient, role: 'operator' }, idempotencyKey: idempotencyKeyFor(workflowId, `disabled-operator:${reason}`) });
        }
      } else if (!reason) c.reportedDisabledReason = null;
    };

    const reminderAt = (): number | undefined => {
      if (c.dueSince === undefined || c.remindersSent >= policy.maxReminders) return undefined;
      const i = c.remindersSent;
      const listed = policy.reminderDays[i];
      const last = policy.reminderDays[policy.reminderDays.length - 1] ?? 0;
      const days = listed ?? last + (i - policy.reminderDays.length + 1) * policy.repeatEveryDays;
      return c.dueSince + days * DAY;
    };
    /** Escalation offsets still to send for the current deadline; those already past are sent as one. */
    const escalation = (a: AccountSnapshot): { at: number; offsets: number[] } | undefined => {
      const deadline = a.requirements.currentDeadline;
      if (!deadline || !isDue(a)) return undefined;
      const open = policy.escalateDaysBeforeDeadline.filter((d) => !c.escalated.offsets.includes(d));
      const first = open[0];
      if (first === undefined) return undefined;
      const past = open.filter((d) => deadline * 1000 - d * DAY <= Date.now());
      return past.length ? { at: Date.now(), offsets: past } : { at: deadline * 1000 - first * DAY, offsets: [first] };
    };

    const sendLink = async (a: AccountSnapshot, kind: string, step: string): Promise<void> => {
      const linkType = a.detailsSubmitted ? policy.linkTypeAfterDetailsSubmitted : 'account_onboarding';
      const { linkExpiresAt } = await notifying.sendOnboardingLink({
        accountId,
        linkType,
        collect: policy.collect,
        notification: { kind, recipient, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, step), data: facts(a) },
      });
      tracker.record(`sent ${kind}`, linkExpiresAt ? `${linkType} link valid until ${new Date(linkExpiresAt * 1000).toISOString()}` : 'without link');
    };

    const end = async (result: OnboardingOutcome, summary: string): Promise<OnboardingResult> => {
      outcome = result;
      refresh();
      tracker.step('ended', summary);
      tracker.next(undefined);
      tracker.status('completed');
      if (result === 'onboarded') {
        await notifying.notify({ kind: 'connect.onboarding.completed', recipient, workflowId, idempotencyKey: idempotencyKeyFor(workflowId, 'completed'), data: { accountId } });
      }
      return { accountId, outcome: result, remindersSent: c.totalReminders, escalationsSent: c.escalationsSent };
    };

    if (!account) await condition(() => inbox.hasPending, '10 seconds'); // the starting event arrives with the start
    tracker.status('waiting');

    for (;;) {
      readThisTurn = false;
      applyEvents();
      if (outcome) return end(outcome, `${accountId} disconnected the platform; onboarding stopped.`);
      if (needsRead || !account) await read();
      const current = account ?? (await read());
      await observe(current);
      refresh();

      if (isComplete(current)) {
        // Ending is final (a later event cannot restart this flow): confirm with Stripe first.
        if (!readThisTurn) {
          needsRead = true;
          continue;
        }
        return end('onboarded', `${accountId} is onboarded: charges and payouts enabled, nothing due.`);
      }

      if (eventsThisRun() >= policy.maxEventsPerRun || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof onboardConnectedAccount>({
          objectId: accountId,
          ...(input.policy ? { policy: input.policy } : {}),
          carried: { ...c, account: current, inbox: inbox.snapshot(), done: tracker.state.done },
        });
      }

      const reminder = reminderAt();
      const escalate = escalation(current);
      const at = Math.min(reminder ?? Infinity, escalate?.at ?? Infinity);
      if (at === Infinity) {
        tracker.next(undefined);
        const why = isDue(current) ? `reminders used up (${c.totalReminders}); waiting for ${accountId}` : `waiting for Stripe to verify or enable ${accountId}`;
        tracker.step(isDue(current) ? 'waiting_for_account' : 'waiting_for_verification', why);
        await condition(() => inbox.hasPending);
        continue;
      }
      const action = escalate && escalate.at <= at ? `escalate: deadline ${new Date((current.requirements.currentDeadline ?? 0) * 1000).toISOString()}` : `remind (${c.remindersSent + 1})`;
      tracker.next(action, at);
      if (at > Date.now()) {
        tracker.step('waiting_for_account', `Due from ${accountId}: ${current.requirements.currentlyDue.join(', ') || current.requirements.pastDue.join(', ')}; next: ${action}`);
        await condition(() => inbox.hasPending, at - Date.now());
        // Due or not, look again: events first, and a fresh read before reminding.
        if (!inbox.hasPending) needsRead = true;
        continue;
      }
      if (!readThisTurn) {
        needsRead = true;
        continue;
      }

      // Due now, on a fresh read of the account.
      if (escalate && escalate.at <= Date.now()) {
        const days = Math.min(...escalate.offsets);
        tracker.step('escalating', `Deadline for ${accountId} in ${days} day(s)`);
        await sendLink(current, current.requirements.pastDue.length ? 'connect.onboarding.past_due' : 'connect.onboarding.deadline_approaching', `escalation:${current.requirements.currentDeadline}:${days}`);
        if (policy.notifyOperator) {
          await notifying.notify({
            kind: 'connect.onboarding.deadline_approaching',
            recipient: { ...recipient, role: 'operator' },
            workflowId,
            idempotencyKey: idempotencyKeyFor(workflowId, `escalation-operator:${current.requirements.currentDeadline}:${days}`),
            data: { ...facts(current), daysBeforeDeadline: days },
          });
        }
        c.escalated.offsets.push(...escalate.offsets);
        c.escalationsSent++;
        // An escalation carries a link too: it stands in for a reminder due at the same time.
        if (reminder !== undefined && reminder <= Date.now()) {
          c.remindersSent++;
          c.totalReminders++;
        }
        continue;
      }
      tracker.step('reminding', `Reminding ${accountId} (${c.remindersSent + 1})`);
      const kind = current.requirements.pastDue.length ? 'connect.onboarding.past_due' : c.remindersSent === 0 ? 'connect.onboarding.requirements_due' : 'connect.onboarding.reminder';
      await sendLink(current, kind, `reminder:${c.dueSince}:${c.remindersSent}`);
      c.remindersSent++;
      c.totalReminders++;
    }
  });
}
