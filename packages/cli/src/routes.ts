import { RouteRegistry, type DomainDefinition } from '@stripe-flows/core';

/** The route table as Markdown (the README's table is generated from this). */
export function routesMarkdown(domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>): string {
  const rows = new RouteRegistry(domains).table();
  const lines = [
    '| Stripe event type | Flow | Workflow | Workflow id | Delivery |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.eventType}\` | ${r.domain}.${r.flow} | \`${r.workflowType}\` | \`${r.domain}.${r.flow}:<object id>\` | ${r.mode === 'start' ? 'starts or joins the flow' : 'signals a running flow (else ignored)'} |`),
  ];
  return `${lines.join('\n')}\n`;
}
