/** Counters and a latency summary, exposed in Prometheus text format on GET /metrics. */
export class ReceiverMetrics {
  private readonly counters = new Map<string, number>();
  private readonly latencies: number[] = [];

  count(name: string, labels: Record<string, string> = {}): void {
    const key = `${name}${formatLabels(labels)}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  observeDispatchMs(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > 10_000) this.latencies.splice(0, this.latencies.length - 10_000);
  }

  render(): string {
    const lines = ['# TYPE stripe_flows_receiver_events_total counter'];
    for (const [key, value] of [...this.counters].sort()) lines.push(`${key} ${value}`);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    lines.push('# TYPE stripe_flows_receiver_dispatch_ms summary');
    for (const q of [0.5, 0.99]) {
      const v = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
      lines.push(`stripe_flows_receiver_dispatch_ms{quantile="${q}"} ${v}`);
    }
    lines.push(`stripe_flows_receiver_dispatch_ms_count ${sorted.length}`);
    return `${lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (!entries.length) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}
