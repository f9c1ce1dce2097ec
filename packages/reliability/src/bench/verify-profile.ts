#!/usr/bin/env node
// Runs the receiver's verify path on one body size in a loop, for `node --cpu-prof`: warms up,
// prints `MEASURING <CLOCK_MONOTONIC µs>` (so the profile is read from there on), then loops for
// the given time. Usage: verify-profile.js <bytes> <milliseconds>
import { monotonicNowUs } from './profile.js';
import { timeLoop, verifyPaths } from './verify.js';

const bytes = Number(process.argv[2] ?? '1024');
const ms = Number(process.argv[3] ?? '3000');
const paths = verifyPaths(bytes);
await timeLoop(paths.receiverPath, 300);
console.log(`MEASURING ${monotonicNowUs()}`);
for (const end = performance.now() + ms; performance.now() < end; ) await timeLoop(paths.receiverPath, 50);
