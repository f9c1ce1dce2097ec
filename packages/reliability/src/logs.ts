// Log hygiene: canary values planted in every personal field and secret, a capture of what real
// processes write, and the search for any canary in it.
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { buildEvent, resourceForEventType, type BuildEventOptions } from '@stripe-flows/testing';

type Json = Record<string, unknown>;

/** One planted value and what it stands for (`customer.email`, `STRIPE_WEBHOOK_SECRETS`, ...). */
export interface Canary {
  label: string;
  value: string;
}

/** A canary found in a log line. */
export interface Leak {
  label: string;
  value: string;
  /** `<source> <stream>: <line>` (cut to 300 characters). */
  line: string;
}

/**
 * Unique values for personal fields and secrets, all remembered, so a log can be searched for
 * every one of them. Each value carries this run's tag, so nothing else matches it by chance.
 */
export class Canaries {
  readonly tag: string;
  readonly #all = new Map<string, Canary>();
  #n = 0;

  constructor(tag = randomBytes(4).toString('hex')) {
    this.tag = tag;
  }

  /** Register a value (a secret made elsewhere, a link minted at run time). */
  add(label: string, value: string): string {
    if (value.length < 8) throw new Error(`Canary ${label} is too short to search for reliably: ${value}`);
    this.#all.set(value, { label, value });
    return value;
  }

  /** A unique token (`cnry<tag>n<label>`) for fields of any format. */
  token(label: string): string {
    return this.add(label, `cnry${this.tag}n${++this.#n}${label.replace(/[^A-Za-z0-9]/g, '')}`);
  }

  email(label: string): string {
    return this.add(label, `${label.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}.${this.tag}${++this.#n}@canary-pii.example`);
  }

  name(label: string): string {
    return this.add(label, `Ada${this.tag}${++this.#n} Lovelace${label.replace(/[^A-Za-z]/g, '')}`);
  }

  phone(label: string): string {
    return this.add(label, `+1415${String(randomInt(1_000_000, 9_999_999))}`);
  }

  /** A run of digits (card, bank account and routing numbers). */
  digits(label: string, length: number, prefix = ''): string {
    let out = prefix;
    while (out.length < length) out += String(randomInt(0, 10));
    return this.add(label, out);
  }

  address(label: string): Json {
    return {
      line1: this.token(`${label}.line1`),
      line2: this.token(`${label}.line2`),
      city: this.token(`${label}.city`),
      state: 'CA',
      postal_code: this.token(`${label}.postal_code`),
      country: 'US',
    };
  }

  /** Every canary registered so far. */
  get list(): readonly Canary[] {
    return [...this.#all.values()];
  }
}

/**
 * Every canary that occurs in `logText` (as is, lowercased, or URL-encoded), with the line it is
 * on. Lines are expected as `<source> <stream>: <text>` (see {@link LogCapture.text}).
 */
export function findLeaks(logText: string, canaries: readonly (Canary | string)[]): Leak[] {
  const lines = logText.split('\n');
  const lower = lines.map((l) => l.toLowerCase());
  const leaks: Leak[] = [];
  for (const c of canaries) {
    const { label, value } = typeof c === 'string' ? { label: c, value: c } : c;
    const forms = [...new Set([value, encodeURIComponent(value)].map((f) => f.toLowerCase()))];
    lower.forEach((line, i) => {
      if (forms.some((f) => line.includes(f))) leaks.push({ label, value, line: (lines[i] ?? '').slice(0, 300) });
    });
  }
  return leaks;
}

/**
 * Lines that print raw bytes (a serialized Buffer or Uint8Array, a long array of byte values):
 * payload data in a form no canary search would recognize.
 */
export function findByteDumps(logText: string): string[] {
  const dump = /"type":"Buffer","data":\[|\{"0":\d{1,3},"1":\d{1,3},"2":\d{1,3},|\[(?:\d{1,3},){15,}\d{1,3}\]/;
  return logText.split('\n').filter((line) => dump.test(line)).map((line) => line.slice(0, 300));
}

/** One line a process wrote, and its JSON when it is a log record. */
export interface CapturedLine {
  source: string;
  stream: 'stdout' | 'stderr';
  text: string;
  json?: Json;
}

/** Everything the attached processes write, line by line, nothing dropped. */
export class LogCapture {
  readonly #lines: CapturedLine[] = [];

  /** Capture a child's stdout and stderr (spawned with `stdio: pipe`). */
  attach(source: string, child: ChildProcess): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      const readable = child[stream];
      if (!readable) continue;
      readable.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts) this.push(source, stream, text);
      });
      readable.on('end', () => {
        if (partial) this.push(source, stream, partial);
        partial = '';
      });
    }
  }

  /** Add a line written some other way (e.g. a test's own in-process logger). */
  push(source: string, stream: 'stdout' | 'stderr', text: string): void {
    if (text.trim() === '') return;
    let json: Json | undefined;
    if (text.startsWith('{')) {
      try {
        json = JSON.parse(text) as Json;
      } catch {
        json = undefined;
      }
    }
    this.#lines.push({ source, stream, text, ...(json ? { json } : {}) });
  }

  lines(source?: string): readonly CapturedLine[] {
    return source === undefined ? [...this.#lines] : this.#lines.filter((l) => l.source === source);
  }

  /** Log records (JSON lines) of a source whose `msg` is `msg` (and that match `where`). */
  records(source: string, msg: string | RegExp, where: (record: Json) => boolean = () => true): Json[] {
    return this.lines(source)
      .map((l) => l.json)
      .filter((j): j is Json => j !== undefined && (typeof msg === 'string' ? j.msg === msg : typeof j.msg === 'string' && msg.test(j.msg)) && where(j));
  }

  /** Every line as `<source> <stream>: <text>`. */
  text(): string {
    return this.#lines.map((l) => `${l.source} ${l.stream}: ${l.text}`).join('\n');
  }
}

/** Personal fields of a Stripe object, by resource, filled with canaries. */
export function personalFields(resource: string, c: Canaries): Json {
  const card = () => ({
    brand: 'visa',
    last4: c.token('card.last4'),
    fingerprint: c.token('card.fingerprint'),
    exp_month: c.token('card.exp_month'),
    exp_year: c.token('card.exp_year'),
    iin: c.token('card.iin'),
  });
  const metadata = (label: string) => ({
    note: c.token(`${label}.metadata.note`),
    contact_email: c.email(`${label}.metadata.email`),
    card_number: c.digits(`${label}.metadata.pan`, 16, '4000'),
  });
  const description = (label: string) => c.add(`${label}.description`, `Order of ${c.name(`${label}.description.name`)} paid with 4242424242424242 (${c.tag})`);
  switch (resource) {
    case 'customer':
      return {
        email: c.email('customer.email'),
        name: c.name('customer.name'),
        phone: c.phone('customer.phone'),
        address: c.address('customer.address'),
        shipping: { name: c.name('customer.shipping.name'), phone: c.phone('customer.shipping.phone'), address: c.address('customer.shipping.address') },
        description: description('customer'),
        metadata: metadata('customer'),
      };
    case 'invoice':
      return {
        customer_email: c.email('invoice.customer_email'),
        customer_name: c.name('invoice.customer_name'),
        customer_phone: c.phone('invoice.customer_phone'),
        customer_address: c.address('invoice.customer_address'),
        customer_shipping: { name: c.name('invoice.customer_shipping.name'), phone: null, address: c.address('invoice.customer_shipping.address') },
        shipping_details: { name: c.name('invoice.shipping_details.name'), phone: null, address: c.address('invoice.shipping_details.address') },
        custom_fields: [{ name: 'VAT', value: c.token('invoice.custom_field') }],
        description: description('invoice'),
        footer: c.token('invoice.footer'),
        metadata: metadata('invoice'),
        hosted_invoice_url: c.add('invoice.hosted_invoice_url', `https://invoice.stripe.com/i/acct_${c.tag}/test_${c.token('invoice.hosted.path')}`),
        invoice_pdf: c.add('invoice.invoice_pdf', `https://pay.stripe.com/invoice/acct_${c.tag}/test_${c.token('invoice.pdf.path')}/pdf`),
      };
    case 'charge':
      return {
        billing_details: { name: c.name('charge.billing_details.name'), email: c.email('charge.billing_details.email'), phone: c.phone('charge.billing_details.phone'), address: c.address('charge.billing_details.address'), tax_id: null },
        receipt_email: c.email('charge.receipt_email'),
        receipt_url: c.add('charge.receipt_url', `https://pay.stripe.com/receipts/payment/${c.token('charge.receipt.path')}`),
        shipping: { name: c.name('charge.shipping.name'), phone: c.phone('charge.shipping.phone'), address: c.address('charge.shipping.address') },
        payment_method_details: { type: 'card', card: card() },
        description: description('charge'),
        metadata: metadata('charge'),
      };
    case 'bank_account':
      return {
        account_holder_name: c.name('bank_account.account_holder_name'),
        last4: c.token('bank_account.last4'),
        routing_number: c.digits('bank_account.routing_number', 9),
        account_number: c.digits('bank_account.account_number', 12),
        fingerprint: c.token('bank_account.fingerprint'),
        bank_name: c.token('bank_account.bank_name'),
        metadata: metadata('bank_account'),
      };
    case 'account':
      return {
        email: c.email('account.email'),
        business_profile: { name: c.name('account.business_profile.name'), support_email: c.email('account.support_email'), support_phone: c.phone('account.support_phone'), support_address: c.address('account.support_address'), url: null },
        individual: {
          first_name: c.name('account.individual.first_name'),
          last_name: c.token('account.individual.last_name'),
          email: c.email('account.individual.email'),
          phone: c.phone('account.individual.phone'),
          address: c.address('account.individual.address'),
          dob: { day: 1, month: 1, year: 1990 },
          id_number: c.digits('account.individual.id_number', 9),
        },
        company: { name: c.name('account.company.name'), phone: c.phone('account.company.phone'), address: c.address('account.company.address'), tax_id: c.digits('account.company.tax_id', 9) },
        metadata: metadata('account'),
      };
    case 'payout':
      return { description: description('payout'), statement_descriptor: c.token('payout.statement_descriptor'), metadata: metadata('payout') };
    case 'billing.alert_triggered':
      return {};
    default:
      return { description: description(resource), metadata: metadata(resource) };
  }
}

/**
 * A Stripe event from Stripe's fixture for its resource, with every personal field filled with
 * canaries; `object` (ids, statuses the flow needs) goes on top.
 */
export function poisonedEvent(type: string, c: Canaries, options: BuildEventOptions = {}): Json {
  const resource = options.resource ?? resourceForEventType(type);
  return buildEvent(type, { ...options, object: { ...personalFields(resource, c), ...(options.object ?? {}) } });
}
