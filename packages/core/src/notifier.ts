/** Something a flow tells a person (customer, connected account, operator). */
export interface Notification {
  /** Machine name of the message (`dunning.reminder`, `dunning.final_notice`, ...). */
  kind: string;
  /** Who it is for, by Stripe id only: the notifier resolves contact details itself. */
  recipient: { customerId?: string; accountId?: string; role: 'customer' | 'account' | 'operator' };
  workflowId: string;
  /** Stable per flow step, so a retried notification is sent once by a deduplicating transport. */
  idempotencyKey: string;
  /** Ids, amounts and links the message needs. Never contact details or card data. */
  data: Record<string, string | number | boolean | null>;
}

/** Port through which flows tell people things. */
export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

/** The part of a pino-style logger the notifiers use. */
export interface NotifierLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

/** Fields safe to log: ids and kinds, never links (a hosted invoice URL opens the invoice). */
function loggable(n: Notification): Record<string, unknown> {
  return {
    kind: n.kind,
    recipientRole: n.recipient.role,
    customerId: n.recipient.customerId,
    accountId: n.recipient.accountId,
    workflowId: n.workflowId,
    idempotencyKey: n.idempotencyKey,
  };
}

/** Default notifier: one structured log line per notification. */
export function createLogNotifier(logger: NotifierLogger): Notifier {
  return {
    async notify(n) {
      logger.info({ notification: loggable(n) }, 'notification');
    },
  };
}

/**
 * Posts each notification as JSON to an outbound webhook (your mailer, Slack bridge, CRM), with
 * an `Idempotency-Key` header. Non-2xx answers throw, so the activity retries.
 */
export function createWebhookNotifier(options: { url: string; bearerToken?: string; timeoutMs?: number }): Notifier {
  return {
    async notify(n) {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': n.idempotencyKey,
          ...(options.bearerToken ? { authorization: `Bearer ${options.bearerToken}` } : {}),
        },
        body: JSON.stringify(n),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (!response.ok) {
        throw new Error(`Notification webhook answered ${response.status} for ${n.kind} (${n.idempotencyKey}); it will be retried.`);
      }
    },
  };
}

/** Sends to every notifier (e.g. log + webhook). */
export function combineNotifiers(...notifiers: Notifier[]): Notifier {
  return {
    async notify(n) {
      await Promise.all(notifiers.map((notifier) => notifier.notify(n)));
    },
  };
}
