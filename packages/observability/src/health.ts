import type { RuntimeEvent, RuntimeListener, WorkerState } from '@chunkline/runtime';

/** A snapshot of what {@link HealthTracker} knows, served as the `/readyz` and `/healthz` bodies. */
export interface HealthDetails {
  readonly alive: boolean;
  readonly ready: boolean;
  /** The worker state of the last `state` event (`INITIALIZED` before any). */
  readonly state: WorkerState;
  /** A `group-joined` event arrived after the last transition into `RUNNING`. */
  readonly joinedGroup: boolean;
  /** Consumer group member id of the last `group-joined` event, or null before any. */
  readonly memberId: string | null;
  /** Partitions by topic of the last `group-joined` event (may be empty: more members than partitions). */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
  /** `ready` of the last `producer-ready` event (false before any). */
  readonly producerReady: boolean;
  /** Message of the last `fatal` event, or null. */
  readonly lastFatalError: string | null;
  /** The last `connect-failed` event since the last `connected` one (the worker is retrying), or null. */
  readonly connectFailure: { readonly kind: string; readonly attempt: number; readonly error: string } | null;
  /** Why the worker is not ready, one short sentence each; empty when ready. */
  readonly notReadyReasons: readonly string[];
}

/**
 * Liveness and readiness from runtime events; subscribe {@link HealthTracker.listener} to the runtime.
 *
 * - **alive** unless the last `state` event moved to `FAILED` or `STOPPED`: a worker in either state will
 *   not consume again, so the orchestrator should restart the process.
 * - **ready** when all three hold: (1) the state is `RUNNING`; (2) a `group-joined` event arrived after the
 *   last `state` event into `RUNNING` (an earlier join does not count, and the join is not cleared by later
 *   rebalances, for which the runtime emits only the new `group-joined`); (3) the last `producer-ready`
 *   event said `ready: true`. An empty assignment still counts as joined: an idle member is healthy.
 *   `STOPPING` and `DRAINING` are not ready, so traffic-based checks stop routing before the worker exits.
 * - While the worker cannot connect (`connect-failed` events, until `connected`) it is alive and not
 *   ready, and the reasons say why: a wrong password or an untrusted certificate is retried in process
 *   with backoff, so a restart would not help.
 */
export class HealthTracker {
  private state: WorkerState = 'INITIALIZED';
  private joinedGroup = false;
  private memberId: string | null = null;
  private assignment: Readonly<Record<string, readonly number[]>> = {};
  private producerReady = false;
  private lastFatalError: string | null = null;
  private connectFailure: HealthDetails['connectFailure'] = null;

  /** Subscribe this to the runtime's events. Bound: safe to pass around. */
  readonly listener: RuntimeListener = (event: RuntimeEvent): void => {
    switch (event.type) {
      case 'state':
        if (event.to === 'RUNNING' && this.state !== 'RUNNING') this.joinedGroup = false;
        this.state = event.to;
        break;
      case 'group-joined':
        this.joinedGroup = true;
        this.memberId = event.memberId;
        this.assignment = event.assignment;
        break;
      case 'producer-ready':
        this.producerReady = event.ready;
        break;
      case 'fatal':
        this.lastFatalError = event.error.message;
        break;
      case 'connect-failed':
        this.connectFailure = { kind: event.kind, attempt: event.attempt, error: event.error };
        break;
      case 'connected':
        this.connectFailure = null;
        break;
      default:
        break;
    }
  };

  /** False once the worker is `FAILED` or `STOPPED`. */
  alive(): boolean {
    return this.state !== 'FAILED' && this.state !== 'STOPPED';
  }

  /** True when `RUNNING`, joined to the group since, and the producer is ready (see the class comment). */
  ready(): boolean {
    return this.notReadyReasons().length === 0;
  }

  /** What the tracker knows, for the probe response bodies. */
  details(): HealthDetails {
    const notReadyReasons = this.notReadyReasons();
    return {
      alive: this.alive(),
      ready: notReadyReasons.length === 0,
      state: this.state,
      joinedGroup: this.joinedGroup,
      memberId: this.memberId,
      assignment: this.assignment,
      producerReady: this.producerReady,
      lastFatalError: this.lastFatalError,
      connectFailure: this.connectFailure,
      notReadyReasons,
    };
  }

  private notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (this.state !== 'RUNNING') reasons.push(`state is ${this.state}, not RUNNING`);
    else if (this.connectFailure !== null)
      reasons.push(`cannot connect to Kafka (${this.connectFailure.kind}, attempt ${this.connectFailure.attempt})`);
    else if (!this.joinedGroup) reasons.push('no group-joined event since entering RUNNING');
    if (!this.producerReady) reasons.push('producer not ready');
    return reasons;
  }
}
