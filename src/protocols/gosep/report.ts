import type { HeraldConfig } from '../../config/schema.js';
import { gosepSubscriptionId } from '../../delivery/webhooks/declared.js';
import type { WebhookService } from '../../delivery/webhooks/service.js';
import type { Logger } from '../../observability/logger.js';

/** go-sep printed its queue metrics every 5 s, the first batch at once. */
export const REPORT_INTERVAL_MS = 5_000;

/** The fields of go-sep's `metrics-queue` line (compat.md §1) for one (queue, target). */
export interface QueueReport {
  chanlen: number;
  chanmax: number;
  current: number;
  failure: number;
  lost: number;
  queue: string;
  success: number;
  total: number;
  url: string;
}

/** One `metrics-queue` report per target of every queue, from its lane's status. */
export function queueReports(webhooks: WebhookService, gosep: HeraldConfig['gosep']): QueueReport[] {
  const reports: QueueReport[] = [];
  for (const [queue, targets] of Object.entries(gosep.queues)) {
    for (const { url, buffer } of targets) {
      const { status } = webhooks.get(gosepSubscriptionId(queue, url));
      const waiting = Math.max(0, status.lag - status.inFlight);
      const current = waiting + status.inFlight;
      reports.push({
        chanlen: Math.min(waiting, buffer),
        chanmax: buffer,
        current,
        failure: status.failed,
        lost: status.dropped,
        queue,
        success: status.delivered,
        total: status.delivered + status.failed + status.dropped + current,
        url,
      });
    }
  }
  return reports;
}

/** Logs the reports now and every REPORT_INTERVAL_MS; returns the function that stops it. */
export function startQueueReport(webhooks: WebhookService, gosep: HeraldConfig['gosep'], log: Logger): () => void {
  const report = (): void => {
    for (const fields of queueReports(webhooks, gosep)) log.info(fields, 'metrics-queue');
  };
  report();
  const timer = setInterval(report, REPORT_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
