/**
 * The front door's graceful stop (docs/operations.md): `/readyz` turns 503 first (and stays so for
 * `delayMs`, a load balancer's time to stop sending), then no new connections, keep-alive ones close
 * after their current response, and the responses in flight — streams included — get `graceMs` to
 * finish. What is still open then is closed by us; `closingSockets` tells the request path that
 * those closes are ours, not clients that left, so their requests go on and stay recorded (a client
 * reattaches with its Idempotency-Key or `GET /v2/requests/{id}` on another replica).
 */
import type http from 'node:http';
import type { Logger } from 'pino';

export class HttpDrain {
  /** SIGTERM arrived: readiness answers 503, responses ask for `connection: close`. */
  draining = false;
  /** The grace is over and this process is closing the connections still open. */
  closingSockets = false;
  private inFlight = 0;
  private idle?: () => void;

  constructor(private readonly options: { graceMs: number; delayMs: number }) {}

  /** Count `server`'s responses in flight (runs before the app sees a request). */
  track(server: http.Server): void {
    server.prependListener('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
      this.inFlight += 1;
      if (this.draining) response.shouldKeepAlive = false;
      response.once('close', () => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idle?.();
      });
    });
  }

  /** Stop `server` gracefully; resolves once it holds no connection. */
  async drain(server: http.Server, logger: Logger): Promise<void> {
    this.draining = true;
    logger.info({ inFlight: this.inFlight, graceMs: this.options.graceMs, delayMs: this.options.delayMs }, 'front door draining: /readyz answers 503');
    if (this.options.delayMs > 0) await sleep(this.options.delayMs);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const finished = await this.responsesDone(this.options.graceMs);
    if (!finished) logger.warn({ inFlight: this.inFlight }, 'shutdown grace over: closing the connections still open (their requests go on)');
    else logger.info('front door drained: every response in flight was finished');
    this.closingSockets = true;
    server.closeAllConnections();
    await closed;
  }

  private responsesDone(withinMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { this.idle = undefined; resolve(false); }, withinMs);
      this.idle = () => { clearTimeout(timer); this.idle = undefined; resolve(true); };
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
