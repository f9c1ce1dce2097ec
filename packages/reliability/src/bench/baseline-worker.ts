#!/usr/bin/env node
// The baseline worker process of the worker benchmark: one Worker for the one-activity flow, set
// up like the project's worker (native connection, prebuilt bundle, SDK default tuning, same
// payload encryption). Environment (this process's only env read): the Temporal settings,
// BASELINE_BUNDLE (the prebuilt workflow bundle), MAX_CACHED_WORKFLOWS (optional).
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { dataConverterFor, parseEnv, temporalConfigSchema, temporalConnectionOptions } from '@stripe-flows/core';
import { z } from 'zod';
import { BASELINE_TASK_QUEUE, createBaselineActivities } from './baseline-activities.js';

const config = parseEnv(
  temporalConfigSchema.extend({ BASELINE_BUNDLE: z.string().min(1), MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional() }),
  process.env,
);
Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
const dataConverter = dataConverterFor(config);
const worker = await Worker.create({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: BASELINE_TASK_QUEUE,
  workflowBundle: { codePath: config.BASELINE_BUNDLE },
  activities: createBaselineActivities(),
  ...(config.MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS } : {}),
  ...(dataConverter ? { dataConverter } : {}),
});
process.once('SIGTERM', () => worker.shutdown());
console.log('baseline worker running');
await worker.run();
await connection.close();
