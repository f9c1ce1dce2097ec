// Onboarding under the time-skipping test server: weeks of reminders per test, with plain-object
// activities standing in for Stripe (the account the test controls) and the notifier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { stripeEventSignal, type Notification } from '@stripe-flows/core';
import { createTimeSkippingEnv } from '@stripe-flows/testing';
import type { AccountSnapshot, OnboardingActivities, OnboardingDetails, OnboardingInput, OnboardingLinkNotice, OnboardingResult } from '../src/index.js';
import { bundleConnectWorkflows, DAY, flowEvent, queryState, runFlow, sent, unique } from './helpers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleConnectWorkflows();
});
afterAll(async () => {
  await env?.teardown();
});

function account(overrides: Partial<Omit<AccountSnapshot, 'requirements'>> & { requirements?: Partial<AccountSnapshot['requirements']> } = {}): AccountSnapshot {
  return {
    id: overrides.id ?? `acct_${unique()}`,
    chargesEnabled: overrides.chargesEnabled ?? false,
    payoutsEnabled: overrides.payoutsEnabled ?? false,
    detailsSubmitted: overrides.detailsSubmitted ?? false,
    requirements: {
      currentlyDue: ['external_account', 'tos_acceptance.date'],
      eventuallyDue: ['external_account', 'tos_acceptance.date'],
      pastDue: [],
      pendingVerification: [],
      currentDeadline: null,
      disabledReason: null,
      errors: [],
      ...overrides.requirements,
    },
  };
}
const done = (id: string) => account({ id, chargesEnabled: true, payoutsEnabled: true, detailsSubmitted: true, requirements: { currentlyDue: [], eventuallyDue: [] } });

/** Stripe as the test sets it: the account retrieveAccount returns; every link and notice recorded. */
function fakeStripe(initial: AccountSnapshot) {
  const state = { account: initial, reads: 0 };
  const links: OnboardingLinkNotice[] = [];
  const notices: Notification[] = [];
  const activities = {
    async retrieveAccount() {
      state.reads++;
      return structuredClone(state.account);
    },
    async sendOnboardingLink(notice) {
      links.push(notice);
      notices.push(notice.notification);
      return { linkExpiresAt: Math.floor(Date.now() / 1000) + 300 };
    },
    async notify(n) {
      notices.push(n);
    },
  } satisfies OnboardingActivities;
  return { state, links, notices, activities };
}

const now = async () => Math.floor((await env.currentTimeMs()) / 1000);
const run = (fake: ReturnType<typeof fakeStripe>, created: number, input: Partial<OnboardingInput>, during: Parameters<typeof runFlow>[0]['during']) =>
  runFlow<OnboardingResult>({
    env,
    bundle,
    activities: fake.activities,
    workflowType: 'onboardConnectedAccount',
    workflowId: `connect.onboarding:${fake.state.account.id}`,
    input: { objectId: fake.state.account.id, ...input },
    first: flowEvent('account.updated', fake.state.account, created, { account: fake.state.account.id }),
    ...(during ? { during } : {}),
  });

describe('onboarding (connect.onboarding)', () => {
  it('reminds on the schedule with a link minted each time, and completes once enabled with nothing due', async () => {
    const fake = fakeStripe(account());
    const id = fake.state.account.id;
    const t0 = await now();
    const result = await run(fake, t0, { policy: { reminderDays: [0, 2, 5] } }, async (handle) => {
      await env.sleep(3 * DAY); // day 0 and day 2 reminders
      const state = await queryState<OnboardingDetails>(handle);
      expect(state.details.currentlyDue).toEqual(['external_account', 'tos_acceptance.date']);
      expect(state.details.remindersSent).toBe(2);
      expect(state.next?.action).toBe('remind (3)');
      expect(Date.parse(state.next?.at ?? '') - t0 * 1000).toBeGreaterThanOrEqual(5 * DAY - 1000);
      // The account finishes: Stripe enables it.
      fake.state.account = done(id);
      await handle.signal(stripeEventSignal, flowEvent('account.updated', done(id), (await now()), { account: id }));
    });
    expect(result).toEqual({ accountId: id, outcome: 'onboarded', remindersSent: 2, escalationsSent: 0 });
    expect(fake.links.map((l) => [l.accountId, l.linkType, l.collect])).toEqual([
      [id, 'account_onboarding', 'eventually_due'],
      [id, 'account_onboarding', 'eventually_due'],
    ]);
    // Each reminder has its own stable notification key; the link itself never enters the workflow.
    expect(new Set(fake.links.map((l) => l.notification.idempotencyKey)).size).toBe(2);
    expect(JSON.stringify(fake.links)).not.toContain('http');
    expect(sent(fake.notices)).toEqual(['connect.onboarding.requirements_due→account', 'connect.onboarding.reminder→account', 'connect.onboarding.completed→account']);
  });

  it('never completes on an event alone: confirms with Stripe, and keeps going when Stripe still has something due', async () => {
    const fake = fakeStripe(account());
    const id = fake.state.account.id;
    const result = await run(fake, await now(), { policy: { reminderDays: [0], maxReminders: 1 } }, async (handle) => {
      await env.sleep(DAY);
      const reads = fake.state.reads;
      // An event says done, but the account (as read) still has a requirement due.
      fake.state.account = account({ id, chargesEnabled: true, payoutsEnabled: true, requirements: { currentlyDue: ['individual.verification.document'] } });
      await handle.signal(stripeEventSignal, flowEvent('account.updated', done(id), await now(), { account: id }));
      await env.sleep(DAY);
      expect(fake.state.reads).toBeGreaterThan(reads);
      const state = await queryState<OnboardingDetails>(handle);
      expect(state.status).toBe('running');
      expect(state.details.currentlyDue).toEqual(['individual.verification.document']);
      // Verification pending is not done either; only nothing due and nothing pending is.
      fake.state.account = { ...done(id), requirements: { ...done(id).requirements, pendingVerification: ['individual.verification.document'] } };
      await handle.signal(stripeEventSignal, flowEvent('capability.updated', { id: 'card_payments', accountId: id, status: 'pending', requirements: done(id).requirements }, await now(), { account: id }));
      await env.sleep(DAY);
      expect((await queryState<OnboardingDetails>(handle)).step).toBe('waiting_for_verification');
      fake.state.account = done(id);
      await handle.signal(stripeEventSignal, flowEvent('capability.updated', { id: 'card_payments', accountId: id, status: 'active', requirements: done(id).requirements }, await now(), { account: id }));
    });
    expect(result.outcome).toBe('onboarded');
  });

  it('ignores duplicates and older account.updated events, and breaks same-second ties by progress', async () => {
    const fake = fakeStripe(account());
    const id = fake.state.account.id;
    const t0 = await now();
    const result = await run(fake, t0, { policy: { reminderDays: [0], maxReminders: 1 } }, async (handle) => {
      await env.sleep(HOUR_MS);
      const newer = account({ id, detailsSubmitted: true, requirements: { currentlyDue: ['external_account'] } });
      const newerEvent = flowEvent('account.updated', newer, t0 + 100, { account: id });
      await handle.signal(stripeEventSignal, newerEvent);
      await handle.signal(stripeEventSignal, newerEvent); // redelivery
      await handle.signal(stripeEventSignal, flowEvent('account.updated', account({ id }), t0 + 50, { account: id })); // older
      // Same second as `newer`, but less far along: it ranks before it, so it is stale.
      await handle.signal(stripeEventSignal, flowEvent('account.updated', account({ id, requirements: { currentlyDue: ['a', 'b', 'c'] } }), t0 + 100, { account: id }));
      await env.sleep(HOUR_MS);
      const state = await queryState<OnboardingDetails>(handle);
      expect(state.events).toMatchObject({ applied: 2, duplicates: 1, stale: 2 });
      expect(state.details.currentlyDue).toEqual(['external_account']);
      expect(state.details.detailsSubmitted).toBe(true);
      await handle.signal(stripeEventSignal, flowEvent('account.application.deauthorized', { applicationId: 'ca_1' }, t0 + 200, { account: id }));
    });
    expect(result.outcome).toBe('deauthorized');
  });

  it('escalates 7, 3 and 1 day before the deadline, to the account (with a link) and the operator, and reports the disabled reason once', async () => {
    const t0 = await now();
    const deadline = t0 + 10 * 86_400;
    const fake = fakeStripe(account({ requirements: { currentDeadline: deadline, disabledReason: 'requirements.past_due' } }));
    const id = fake.state.account.id;
    const result = await run(fake, t0, { policy: { reminderDays: [0], maxReminders: 1 } }, async (handle) => {
      await env.sleep(2 * DAY);
      const state = await queryState<OnboardingDetails>(handle);
      expect(state.next?.action).toMatch(/^escalate/);
      expect(Date.parse(state.next?.at ?? '')).toBe((deadline - 7 * 86_400) * 1000);
      expect(state.details.currentDeadline).toBe(new Date(deadline * 1000).toISOString());
      await env.sleep(8 * DAY); // past all three escalation points
      fake.state.account = done(id);
      await handle.signal(stripeEventSignal, flowEvent('account.updated', done(id), await now(), { account: id }));
    });
    expect(result).toMatchObject({ outcome: 'onboarded', remindersSent: 1, escalationsSent: 3 });
    expect(sent(fake.notices)).toEqual([
      'connect.onboarding.disabled→account',
      'connect.onboarding.disabled→operator',
      'connect.onboarding.requirements_due→account',
      'connect.onboarding.deadline_approaching→account',
      'connect.onboarding.deadline_approaching→operator',
      'connect.onboarding.deadline_approaching→account',
      'connect.onboarding.deadline_approaching→operator',
      'connect.onboarding.deadline_approaching→account',
      'connect.onboarding.deadline_approaching→operator',
      'connect.onboarding.completed→account',
    ]);
    expect(fake.notices.filter((n) => n.recipient.role === 'operator' && n.kind.endsWith('deadline_approaching')).map((n) => n.data.daysBeforeDeadline)).toEqual([7, 3, 1]);
  });

  it('stops reminding after maxReminders but keeps tracking until the account is done', async () => {
    const fake = fakeStripe(account());
    const id = fake.state.account.id;
    const result = await run(fake, await now(), { policy: { reminderDays: [0, 1], repeatEveryDays: 2, maxReminders: 4 } }, async (handle) => {
      await env.sleep(30 * DAY);
      const state = await queryState<OnboardingDetails>(handle);
      expect(state.details.remindersSent).toBe(4);
      expect(state.next).toBeUndefined();
      fake.state.account = done(id);
      await handle.signal(stripeEventSignal, flowEvent('account.updated', done(id), await now(), { account: id }));
    });
    expect(result.remindersSent).toBe(4);
  });

  it('fails at once on an invalid policy, naming the field', async () => {
    const fake = fakeStripe(account());
    const error = await run(fake, await now(), { policy: { reminderDays: [3, 1] } }, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as Error).message).toBe('Invalid onboarding policy: reminderDays[1] must be on or after reminderDays[0].');
  });
});

const HOUR_MS = 3_600_000;
