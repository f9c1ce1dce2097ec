// Injected faults: rules tried in order, each spent after `times` matches.
import type { Fault, FaultRule } from './types.js';

const STATUSES = new Set([429, 500, 502, 503, 400, 402, 404, 409]);

interface ArmedRule {
  readonly rule: FaultRule;
  remaining: number;
}

export class FaultBook {
  #rules: ArmedRule[] = [];

  add(rule: FaultRule): void {
    validate(rule);
    this.#rules.push({ rule, remaining: rule.times ?? 1 });
  }

  /** The fault for this request, if a rule matches (counting it against the rule's `times`). */
  take(method: string, path: string): Fault | undefined {
    const armed = this.#rules.find((a) => a.remaining > 0 && matches(a.rule, method, path));
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.#rules = this.#rules.filter((a) => a !== armed);
    return armed.rule.fault;
  }

  clear(): void {
    this.#rules = [];
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  if (rule.path === undefined) return true;
  if (typeof rule.path === 'string') return rule.path === path;
  rule.path.lastIndex = 0;
  return rule.path.test(path);
}

function validate(rule: FaultRule): void {
  const times = rule.times ?? 1;
  if (!(times > 0) || (!Number.isInteger(times) && times !== Infinity)) {
    throw new Error(`Fault rule times must be a positive integer or Infinity (got ${String(rule.times)}).`);
  }
  const fault = rule.fault as Partial<Fault> | undefined;
  switch (fault?.type) {
    case 'status':
      if (!STATUSES.has(fault.status as number)) {
        throw new Error(`Fault status must be one of ${[...STATUSES].join(', ')} (got ${String(fault.status)}).`);
      }
      return;
    case 'delay':
      if (typeof fault.ms !== 'number' || !(fault.ms >= 0)) throw new Error(`Delay fault needs ms >= 0 (got ${String(fault.ms)}).`);
      return;
    case 'drop':
      return;
    default:
      throw new Error(`Fault type must be status, delay or drop (got ${JSON.stringify(fault?.type)}).`);
  }
}

/** How a fault is recorded on the request it hit. */
export function describeFault(fault: Fault): string {
  switch (fault.type) {
    case 'status':
      return `status:${fault.status}`;
    case 'delay':
      return `delay:${fault.ms}`;
    case 'drop':
      return 'drop';
  }
}
