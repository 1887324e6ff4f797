/**
 * The harness as a program, configured like the original follower-maze harness (same
 * environment variables and defaults), to run against any follower-maze server:
 *
 *   totalEvents=100000 eventListenerPort=9090 clientListenerPort=9099 npx tsx bench/followermaze/cli.ts
 *
 * Prints `ALL NOTIFICATIONS RECEIVED` and exits 0 when every client got exactly what it should.
 */
import { runHarness } from './harness.js';

const env = (name: string, fallback: number): number => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);
const concurrency = env('concurrencyLevel', 100);
const report = await runHarness({
  eventPort: env('eventListenerPort', 9090),
  clientPort: env('clientListenerPort', 9099),
  totalEvents: env('totalEvents', 10_000_000),
  concurrency,
  users: env('numberOfUsers', concurrency * 10),
  seed: env('randomSeed', 666),
  timeoutMs: env('timeout', 20_000),
  maxBatch: env('maxEventSourceBatchSize', 100),
});
console.log(JSON.stringify({ ...report, failures: report.failures.slice(0, 10) }, null, 2));
if (report.ok) console.log('\n==================================\n\\o/ ALL NOTIFICATIONS RECEIVED \\o/\n==================================');
process.exit(report.ok ? 0 : 1);
