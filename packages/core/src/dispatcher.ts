import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';
import { describeIssues, type StripeEventEnvelope } from './envelope.js';
import type { RegisteredRoute, RouteRegistry } from './registry.js';
import type { StripeEventOf, StripeEventType } from './routes.js';
import { stripeEventSignal, type FlowEvent } from './workflow/events.js';
import { flowWorkflowId, QUARANTINE_TASK_QUEUE, quarantineWorkflowId, taskQueueFor } from './workflow/ids.js';
import { quarantineDeliveredSignal, type QuarantineInput } from './workflow/quarantine.js';
import {
  FlowDomainKey,
  FlowStatusKey,
  StripeAccountIdKey,
  StripeCustomerIdKey,
  StripeEventTypeKey,
  StripeObjectIdKey,
} from './workflow/search-attributes.js';

/** What happened to an event on one route. */
export type DispatchOutcome =
  | { route: string; workflowId: string; result: 'delivered' }
  | { route: string; workflowId: string; result: 'ignored'; reason: string }
  | { route: string; workflowId: string; result: 'quarantined'; problems: string[] };

/** Temporal did not accept every dispatch within the deadline: the receiver answers 503. */
export class DispatchUnavailableError extends Error {
  override readonly name = 'DispatchUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface DispatcherOptions {
  client: Client;
  registry: RouteRegistry;
  /** Time Temporal has to accept all of one event's dispatches. */
  deadlineMs: number;
  /** Days a quarantined event is kept. Default 30 (Stripe's event retention). */
  quarantineRetentionDays?: number;
}

/**
 * Hands a verified Stripe event to every flow routed for its type. Workflow ids are
 * deterministic, so a redelivered event reaches the same workflow, which drops it by event id.
 */
export class Dispatcher {
  constructor(private readonly options: DispatcherOptions) {}

  /** Routes for an event type (empty: the receiver answers `{ ignored: true }`). */
  routesFor(eventType: string): readonly RegisteredRoute[] {
    return this.options.registry.routesFor(eventType);
  }

  /**
   * Dispatch to every route. Resolves once Temporal accepted every dispatch; throws
   * {@link DispatchUnavailableError} when it did not within the deadline.
   */
  async dispatch(event: StripeEventEnvelope): Promise<DispatchOutcome[]> {
    const routes = this.routesFor(event.type);
    const deadline = Date.now() + this.options.deadlineMs;
    try {
      return await this.options.client.withDeadline(deadline, () =>
        Promise.all(routes.map((registered) => this.dispatchOne(event, registered))),
      );
    } catch (error) {
      throw new DispatchUnavailableError(
        `Temporal did not accept event ${event.id} within ${this.options.deadlineMs} ms: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private async dispatchOne(event: StripeEventEnvelope, { domain, route }: RegisteredRoute): Promise<DispatchOutcome> {
    const routeName = `${domain}.${route.flow}`;
    // The envelope passed zod; its type selected this route, so it is the route's typed event.
    const typed = event as unknown as StripeEventOf<StripeEventType>;
    const objectId = safeCall(() => route.objectId(typed));
    const projection = route.projection.safeParse(event.data.object);
    if (!objectId || !projection.success) {
      const problems = [
        ...(!objectId ? ['data.object: no object id for this route'] : []),
        ...(!projection.success ? describeIssues(projection.error).map((p) => `data.object.${p}`) : []),
      ];
      const workflowId = await this.quarantine(event, routeName, problems);
      return { route: routeName, workflowId, result: 'quarantined', problems };
    }
    const workflowId = flowWorkflowId(domain, route.flow, objectId);
    const applies = safeCall(() => route.when?.(typed)) ?? true;
    if (applies !== true) return { route: routeName, workflowId, result: 'ignored', reason: applies };
    const flowEvent: FlowEvent = {
      id: event.id,
      type: event.type,
      created: event.created,
      livemode: event.livemode,
      ...(event.account ? { account: event.account } : {}),
      object: projection.data,
      ...(event.data.previous_attributes ? { changed: Object.keys(event.data.previous_attributes) } : {}),
    };

    if (route.mode === 'signal') {
      try {
        await this.options.client.workflow.getHandle(workflowId).signal(stripeEventSignal, flowEvent);
        return { route: routeName, workflowId, result: 'delivered' };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) {
          return { route: routeName, workflowId, result: 'ignored', reason: 'no running flow for this object' };
        }
        throw error;
      }
    }

    const ids = safeCall(() => route.searchIds?.(typed)) ?? {};
    const searchAttributes: SearchAttributePair[] = [
      { key: StripeObjectIdKey, value: objectId },
      { key: FlowDomainKey, value: domain },
      { key: FlowStatusKey, value: 'running' },
      { key: StripeEventTypeKey, value: event.type },
    ];
    if (ids.customerId) searchAttributes.push({ key: StripeCustomerIdKey, value: ids.customerId });
    const accountId = ids.accountId ?? event.account;
    if (accountId) searchAttributes.push({ key: StripeAccountIdKey, value: accountId });
    const summary = safeCall(() => route.summary?.(typed));
    try {
      await this.options.client.workflow.signalWithStart(route.workflowType, {
        workflowId,
        taskQueue: taskQueueFor(domain),
        args: [{ objectId, ...(safeCall(() => route.input?.(typed)) ?? {}) }],
        signal: stripeEventSignal,
        signalArgs: [flowEvent],
        // A flow that already ended stays ended: a late or redelivered event must not restart it.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: searchAttributes,
        ...(summary ? { staticSummary: summary } : {}),
      });
      return { route: routeName, workflowId, result: 'delivered' };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // Either the flow already ended (stays ended), or a concurrent delivery started it a moment
      // ago: then this event must still reach it.
      const handle = this.options.client.workflow.getHandle(workflowId);
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') {
        return { route: routeName, workflowId, result: 'ignored', reason: 'flow for this object already ended' };
      }
      await handle.signal(stripeEventSignal, flowEvent);
      return { route: routeName, workflowId, result: 'delivered' };
    }
  }

  private async quarantine(event: StripeEventEnvelope, route: string, problems: string[]): Promise<string> {
    const workflowId = quarantineWorkflowId(event.id, route);
    const input: QuarantineInput = {
      event: event as QuarantineInput['event'],
      route,
      problems,
      receivedAt: new Date().toISOString(),
      retentionDays: this.options.quarantineRetentionDays ?? 30,
    };
    try {
      // Started once per event and route; every delivery (Stripe retries too) is counted by signal.
      await this.options.client.workflow.signalWithStart('holdQuarantinedEvent', {
        workflowId,
        taskQueue: QUARANTINE_TASK_QUEUE,
        args: [input],
        signal: quarantineDeliveredSignal,
        signalArgs: [],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: FlowDomainKey, value: 'quarantine' },
          { key: FlowStatusKey, value: 'quarantined' },
          { key: StripeEventTypeKey, value: event.type },
          { key: StripeObjectIdKey, value: String(event.data.object['id'] ?? event.id) },
        ],
        staticSummary: `Quarantined ${event.type} ${event.id} for ${route}`,
      });
    } catch (error) {
      // Already released by an operator: the event was dealt with.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return workflowId;
  }
}

function safeCall<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
