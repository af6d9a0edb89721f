import type { Socket } from 'node:net';

import type { Logger } from '../../core/log/logger';
import type { RequestGate } from './request-gate';
import type { RequestRecorder } from './request-recorder';
import type { UpstreamPools } from './upstream-pools';

/** What both HTTP front ends of the proxy share: the decisions, the pools, the records. */
export type ProxyContext = {
  gate: RequestGate;
  pools: UpstreamPools;
  recorder: RequestRecorder;
  upstreamTimeoutMs: number;
  log: Logger;
  /** True once the proxy is stopping: connections close after their current exchange. */
  isClosing(): boolean;
  /** Gives a connection, and the bytes read from it so far, to Node's HTTP server. */
  handOver(socket: Socket, buffered: Buffer | undefined): void;
  /** Counts a request in flight (a graceful stop waits for them). */
  requestStarted(): void;
  requestFinished(): void;
};
