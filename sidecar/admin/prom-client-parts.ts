import type * as PromClient from 'prom-client';

// The metric classes the sidecar uses, loaded from their own modules: prom-client's index also
// loads the default process metrics (with @opentelemetry/api), the cluster aggregator and the
// push gateway, 3.3 MB of resident memory that a sidecar next to every pod does not use.
/* eslint-disable @typescript-eslint/no-require-imports */

/** prom-client's Registry. */
export const Registry: typeof PromClient.Registry = require('prom-client/lib/registry');

/** prom-client's Counter. */
export const Counter: typeof PromClient.Counter = require('prom-client/lib/counter');

/** prom-client's Gauge. */
export const Gauge: typeof PromClient.Gauge = require('prom-client/lib/gauge');

/** prom-client's Histogram. */
export const Histogram: typeof PromClient.Histogram = require('prom-client/lib/histogram');

/** The instance types, under the same names as the classes. */
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
