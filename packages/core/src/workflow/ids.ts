/** Task queue of a domain's workers. */
export function taskQueueFor(domain: string): string {
  return `stripe-flows.${domain}`;
}

/** Deterministic workflow id: `<domain>.<flow>:<stripe object id>`. */
export function flowWorkflowId(domain: string, flow: string, objectId: string): string {
  return `${domain}.${flow}:${objectId}`;
}

/** Task queue and id prefix of the quarantine flow. */
export const QUARANTINE_TASK_QUEUE = 'stripe-flows.quarantine';
export function quarantineWorkflowId(eventId: string, route: string): string {
  return `core.quarantine:${eventId}:${route}`;
}

/** Idempotency key for a Stripe POST made by a flow step: stable across activity retries. */
export function idempotencyKeyFor(workflowId: string, step: string): string {
  const key = `${workflowId}:${step}`;
  // Stripe caps keys at 255 characters; ids are short, but a long step name must not break the call.
  return key.length <= 255 ? key : key.slice(0, 255);
}
