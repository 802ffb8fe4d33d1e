/**
 * @chunkline/observability: Prometheus metrics, health probes and JSON logs, all fed by the runtime's typed
 * events. It imports only their types: no runtime or Kafka code is loaded.
 */
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { HealthTracker, type HealthDetails } from './health.js';
export { startHttpServer, type HttpServer, type HttpServerOptions } from './http.js';
export { createLogger, logEvents, type LoggerOptions } from './logging.js';
export { ObservabilityError, isObservabilityError, type ObservabilityErrorCode } from './errors.js';
