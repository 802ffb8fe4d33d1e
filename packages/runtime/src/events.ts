/**
 * The fixed, typed set of events the runtime emits. Metrics, logs and health live outside the runtime
 * (packages/observability) and subscribe to these; a listener that throws is caught and reported as an
 * `listener-error`, never breaking the loop.
 */
import type { ConnectFailureKind } from './errors.js';

/** Lifecycle states (see {@link WorkerState} transitions in lifecycle.ts). */
export type WorkerState = 'INITIALIZED' | 'RUNNING' | 'STOPPING' | 'DRAINING' | 'STOPPED' | 'FAILED';

/** What became of one input record. */
export type DocumentOutcome = 'chunked' | 'deleted' | 'dead-lettered';

/** Every event, discriminated by `type`. */
export type RuntimeEvent =
  | { type: 'state'; from: WorkerState; to: WorkerState }
  /** Joined the consumer group (after each rebalance) with these assigned partitions. */
  | { type: 'group-joined'; memberId: string; assignment: Record<string, number[]> }
  /**
   * `ready: true`: every producer this member needs is connected (and, with transactions,
   * initialized): the shared one (at-least-once), or one per assigned partition (exactly-once; after
   * each group join, `producers` 0 when the member owns no partition). `ready: false`: disconnected.
   */
  | { type: 'producer-ready'; ready: boolean; producers: number }
  /**
   * Connecting to the brokers failed (attempt `attempt`) for a reason worth retrying: the worker tries
   * again after `delayMs` and stays not ready meanwhile. `error` is the underlying message.
   */
  | { type: 'connect-failed'; kind: ConnectFailureKind; attempt: number; delayMs: number; error: string }
  /** Connected to the brokers (after `attempts` attempts). */
  | { type: 'connected'; attempts: number }
  /** One consumed batch (one partition), from fetch to commit or abort. */
  | {
      type: 'batch';
      topic: string;
      partition: number;
      records: number;
      durationMs: number;
      outcome: 'committed' | 'aborted';
    }
  /** One input record, after its batch committed. */
  | {
      type: 'document';
      topic: string;
      partition: number;
      offset: string;
      docId: string | null;
      outcome: DocumentOutcome;
      chunks: number;
      tokens: number;
      bytes: number;
      /** Token count of each chunk (for the tokens-per-chunk histogram). */
      chunkTokens: readonly number[];
      overCapGraphemes: number;
      processingMs: number;
    }
  /** A record sent to the dead-letter topic; `reason` is the error code (e.g. UNKNOWN_FRAMING, TEXT_TOO_LARGE). */
  | { type: 'dead-letter'; topic: string; partition: number; offset: string; reason: string }
  /** A transient failure that will be retried after `delayMs`. */
  | { type: 'retry'; attempt: number; delayMs: number; error: string }
  /** Consumer lag of one partition: high watermark minus the committed offset. */
  | { type: 'lag'; topic: string; partition: number; lag: number }
  /** An error that stopped the worker (state FAILED follows). */
  | { type: 'fatal'; error: Error }
  /** A listener threw; the runtime carried on. */
  | { type: 'listener-error'; error: Error };

/** The event of a given type. */
export type RuntimeEventOf<T extends RuntimeEvent['type']> = Extract<RuntimeEvent, { type: T }>;

/** A subscriber to runtime events. */
export type RuntimeListener = (event: RuntimeEvent) => void;

/** Fan-out of events to listeners; a throwing listener is reported, not propagated. */
export class EventHub {
  private readonly listeners = new Set<RuntimeListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: RuntimeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (error) {
        if (event.type === 'listener-error') continue;
        this.emit({ type: 'listener-error', error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
  }
}
