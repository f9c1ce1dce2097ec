import { describe, expect, it } from 'vitest';
import { EventInbox } from '../src/workflow/inbox.js';
import type { FlowEvent } from '../src/workflow/events.js';

const ev = (id: string, type: string, created: number, attempt = 0): FlowEvent<{ attempt: number }> => ({
  id,
  type,
  created,
  livemode: false,
  object: { attempt },
});

const precedence = { 'invoice.payment_failed': 1, 'invoice.paid': 4 };

describe('EventInbox', () => {
  it('drops an event id it has seen, pending or applied', () => {
    const inbox = new EventInbox({ precedence });
    expect(inbox.offer(ev('evt_1', 'invoice.payment_failed', 10))).toBe('accepted');
    expect(inbox.offer(ev('evt_1', 'invoice.payment_failed', 10))).toBe('duplicate');
    inbox.next();
    expect(inbox.offer(ev('evt_1', 'invoice.payment_failed', 10))).toBe('duplicate');
    expect(inbox.counts).toEqual({ applied: 1, duplicates: 2, stale: 0 });
  });

  it('hands out pending events oldest first, whatever the arrival order', () => {
    const inbox = new EventInbox({ precedence });
    inbox.offer(ev('evt_c', 'invoice.paid', 30));
    inbox.offer(ev('evt_a', 'invoice.payment_failed', 10));
    inbox.offer(ev('evt_b', 'invoice.payment_failed', 20));
    expect([inbox.next()?.id, inbox.next()?.id, inbox.next()?.id, inbox.next()]).toEqual(['evt_a', 'evt_b', 'evt_c', undefined]);
  });

  it('never moves backwards: an event older than the last applied one is stale', () => {
    const inbox = new EventInbox({ precedence });
    inbox.offer(ev('evt_new', 'invoice.payment_failed', 20));
    inbox.next();
    expect(inbox.offer(ev('evt_old', 'invoice.payment_failed', 10))).toBe('stale');
    expect(inbox.hasPending).toBe(false);
  });

  it('breaks same-second ties by precedence, then by the tie-breaker', () => {
    const inbox = new EventInbox<{ attempt: number }>({ precedence, tieBreaker: (e) => (e.object as { attempt: number }).attempt });
    inbox.offer(ev('evt_paid', 'invoice.paid', 10));
    inbox.offer(ev('evt_f2', 'invoice.payment_failed', 10, 2));
    inbox.offer(ev('evt_f1', 'invoice.payment_failed', 10, 1));
    expect([inbox.next()?.id, inbox.next()?.id, inbox.next()?.id]).toEqual(['evt_f1', 'evt_f2', 'evt_paid']);
    // Once paid is applied, a failure from the same second is stale.
    expect(inbox.offer(ev('evt_f3', 'invoice.payment_failed', 10, 3))).toBe('stale');
  });

  it('keeps a bounded memory of ids and survives a snapshot round trip', () => {
    const inbox = new EventInbox({ capacity: 3 });
    for (let i = 1; i <= 5; i++) {
      inbox.offer(ev(`evt_${i}`, 'x.y', i));
      inbox.next();
    }
    const snapshot = inbox.snapshot();
    expect(snapshot.seen).toEqual(['evt_3', 'evt_4', 'evt_5']);
    const restored = new EventInbox({ capacity: 3, snapshot });
    expect(restored.offer(ev('evt_5', 'x.y', 5))).toBe('duplicate');
    expect(restored.offer(ev('evt_0', 'x.y', 0))).toBe('stale');
    expect(restored.counts.applied).toBe(5);
  });
});

describe('EventInbox across continue-as-new', () => {
  it('carries pending events in the snapshot: none is lost, and their duplicates are still dropped', () => {
    const inbox = new EventInbox({ precedence });
    inbox.offer(ev('evt_a', 'invoice.payment_failed', 10));
    inbox.next();
    inbox.offer(ev('evt_b', 'invoice.payment_failed', 20));
    inbox.offer(ev('evt_c', 'invoice.paid', 30));
    const next = new EventInbox({ precedence, snapshot: inbox.snapshot() });
    expect(next.offer(ev('evt_b', 'invoice.payment_failed', 20))).toBe('duplicate');
    expect([next.next()?.id, next.next()?.id, next.next()]).toEqual(['evt_b', 'evt_c', undefined]);
    expect(next.counts).toMatchObject({ applied: 3, duplicates: 1 });
  });
});
