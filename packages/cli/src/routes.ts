import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@stripe-flows/testing';
import { RouteRegistry, type DomainDefinition } from '@stripe-flows/core';

/**
 * The route table as Markdown (the README's table is generated from this). Endpoint: the webhook
 * endpoint the type arrives on (`platform`, or `connect` for connected accounts' events).
 */
export function routesMarkdown(domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>): string {
  const rows = new RouteRegistry(domains).table();
  const lines = [
    '| Stripe event type | Endpoint | Flow | Workflow | Workflow id | Delivery |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.eventType}\` | ${r.endpoints.join(', ')} | ${r.domain}.${r.flow} | \`${r.workflowType}\` | \`${r.domain}.${r.flow}:<object id>\` | ${r.mode === 'start' ? 'starts or joins the flow' : 'signals a running flow (else ignored)'}${r.condition ? `, ${r.condition}` : ''} |`),
  ];
  return `${lines.join('\n')}\n`;
}

const BEGIN = '<!-- routes:begin -->';
const END = '<!-- routes:end -->';

/** The route table section of README.md, as it is now. */
export function readmeRoutes(): { file: string; text: string; table: string } {
  const file = join(projectRoot(), 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} ... ${END} section.`);
  return { file, text, table: text.slice(start + BEGIN.length, end).trim() + '\n' };
}

/** Rewrite README.md's route table from the routes. */
export function writeReadmeRoutes(domains: ReadonlyArray<Pick<DomainDefinition, 'name' | 'routes'>>): string {
  const { file, text } = readmeRoutes();
  const start = text.indexOf(BEGIN) + BEGIN.length;
  writeFileSync(file, `${text.slice(0, start)}\n${routesMarkdown(domains)}${text.slice(text.indexOf(END))}`);
  return file;
}
