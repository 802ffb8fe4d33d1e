/**
 * @chunkline/runtime: the Kafka consume → chunk → produce loop (the only package that imports kafkajs).
 */
export {
  EventHub,
  type RuntimeEvent,
  type RuntimeEventOf,
  type RuntimeListener,
  type WorkerState,
  type DocumentOutcome,
} from './events.js';
export { ChunkWorker } from './worker.js';
export {
  RecordProcessor,
  deadLetterRecord,
  ERROR_HEADER,
  type InputMessage,
  type OutputMessage,
  type OutputEncoder,
  type ProcessedRecord,
  type RecordHandler,
  type Headers,
} from './process.js';
export { compileWorkerOptions, type WorkerOptions, type CompiledWorkerOptions, type Delivery } from './options.js';
export { createKafka, type ConnectionOptions, type SaslMechanism, type Kafka } from './kafka.js';
export {
  classify,
  RuntimeError,
  PoisonRecordError,
  IllegalStateError,
  ShutdownTimeoutError,
  type FailureClass,
  type FailureStage,
  type PoisonReason,
} from './errors.js';
export {
  envInt,
  envBool,
  kafkaEnvShape,
  kafkaEnvProblems,
  connectionFromEnv,
  parseEnv,
  ConfigError,
  SECRET_VARIABLES,
} from './env.js';
export { runService, type ServiceDefinition, type ServiceHandle, type ServiceLogger } from './service.js';
export {
  ThreadPool,
  PooledRecordHandler,
  serveRecords,
  defaultThreadCount,
  threadModuleUrl,
  type ThreadPoolOptions,
  type RecordTask,
  type RecordReply,
} from './pool.js';
export { inOrder, transferring } from './thread.js';
