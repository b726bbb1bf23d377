import type { DeviceHome } from '../node/agent/device-home';
import type { EngineEvent, EngineMethod, EngineParams, EngineResult } from '../node/engine/engine-protocol';

/**
 * PLACEHOLDER (replaced at merge by the daemon forwarding of issue 19): this version never finds
 * a daemon and always runs the one-shot branch. The signature is the seam the commands use.
 */

/** A connection to the `run` daemon of a home; `call` rejects with EngineCallError. */
export interface DaemonConnection {
  call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>>;
  onEvent(listener: (e: EngineEvent) => void): () => void;
  close(): void;
}

/** Runs `daemon` through the home's running daemon, or `oneShot` when none is running. */
export async function viaDaemonOr<T>(home: DeviceHome, daemon: (d: DaemonConnection) => Promise<T>, oneShot: () => Promise<T>): Promise<T> {
  void home;
  void daemon;
  return oneShot();
}
