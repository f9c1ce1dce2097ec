#!/usr/bin/env node
// The Temporal ceiling of durable ingest: a bare process making the receiver's signalWithStart
// calls (recorded from its dispatcher, same ids and payloads) straight to Temporal at the same
// concurrency, through the same client setup. Usage: direct-dispatch.js <calls.json>; prints
// `RESULT {...}` (latencies, errors, elapsed, own CPU) and exits. Reads only the Temporal settings
// from the environment (this process's only env read).
import { readFileSync } from 'node:fs';
import { connectTemporalClient, parseEnv, temporalConfigSchema } from '@stripe-flows/core';
import type { DispatchCall } from './events.js';
import { timedLoad } from './measure.js';
import { monotonicNowUs } from './profile.js';

interface DirectJob {
  concurrency: number;
  warmup: DispatchCall[];
  measured: DispatchCall[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: direct-dispatch.js <calls.json>');
const job = JSON.parse(readFileSync(file, 'utf8')) as DirectJob;
const client = await connectTemporalClient(parseEnv(temporalConfigSchema, process.env));
const deadlineMs = 5000; // the receiver's DISPATCH_DEADLINE_MS default
const dispatch = async (call: DispatchCall) => {
  await client.withDeadline(Date.now() + deadlineMs, () => client.workflow.signalWithStart(call.workflowType, call.options));
  return true;
};
await timedLoad(job.warmup, job.concurrency, dispatch);
// For `--cpu-prof` runs: where the measured part starts, on the clock V8's profiles use.
process.stdout.write(`MEASURING ${monotonicNowUs()}\n`);
const cpuBefore = process.cpuUsage();
const run = await timedLoad(job.measured, job.concurrency, dispatch);
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`RESULT ${JSON.stringify({ ...run, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
await client.connection.close();
