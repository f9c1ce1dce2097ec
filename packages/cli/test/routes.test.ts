import { describe, expect, it } from 'vitest';
import { builtInDomains } from '@stripe-flows/workers';
import { readmeRoutes, routesMarkdown } from '../src/routes.js';

describe('stripe-flows routes', () => {
  it('lists every routed event type with its flow and delivery', () => {
    const table = routesMarkdown(builtInDomains);
    expect(table).toContain('| `invoice.payment_failed` | platform | billing.dunning | `collectInvoicePayment` | `billing.dunning:<object id>` | starts or joins the flow |');
    expect(table).toContain('| `invoice.paid` | platform | billing.dunning | `collectInvoicePayment` | `billing.dunning:<object id>` | signals a running flow (else ignored) |');
  });

  it("names the endpoint each type arrives on: connected accounts' events on the Connect endpoint", () => {
    const table = routesMarkdown(builtInDomains);
    expect(table).toContain('| Stripe event type | Endpoint | Flow |');
    expect(table).toMatch(/^\| `account\.updated` \| connect \| connect\.onboarding \|/m);
    expect(table).toMatch(/^\| `payout\.failed` \| connect \| connect\.payout \|/m);
    expect(table).toMatch(/^\| `charge\.refunded` \| platform \| connect\.reversal \|/m);
  });

  it('matches the table in README.md (regenerate with `stripe-flows routes --readme`)', () => {
    expect(readmeRoutes().table).toBe(routesMarkdown(builtInDomains));
  });
});
