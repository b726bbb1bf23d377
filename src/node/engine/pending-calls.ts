import type { EngineErrorCode, EngineResponse, ServerFailureReason } from './engine-protocol';

/** An engine's error answer, or a call that got none: what every engine client rejects with. */
export class EngineCallError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** With code `server`: why the server could not be reached, when the engine knows. */
    readonly reason?: ServerFailureReason,
  ) {
    super(message);
    this.name = 'EngineCallError';
  }
}

interface PendingCall {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The calls sent to an engine (the forked host, or a daemon's socket) not answered yet: each
 * fails on its own deadline, and all fail at once when the engine goes away.
 */
export class PendingCalls {
  private nextId = 1;
  private readonly calls = new Map<number, PendingCall>();

  /** `engine` names the other side in messages: "the engine host", "the daemon (process 12)". */
  constructor(private readonly engine: () => string) {}

  /** A new call's id, and its answer, which rejects if none comes within `timeoutMs`. */
  open(method: string, timeoutMs: number): { readonly id: number; readonly answer: Promise<unknown> } {
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new EngineCallError('internal', `${this.engine()} did not answer ${method} in time`));
      }, timeoutMs);
      this.calls.set(id, { method, resolve, reject, timer });
    });
    return { id, answer };
  }

  /** The call could not even be sent. */
  abandon(id: number, err: Error): void {
    const call = this.take(id);
    call?.reject(err);
  }

  settle(response: EngineResponse): void {
    const call = this.take(response.id);
    if (!call) return;
    if (response.ok) call.resolve(response.result);
    else call.reject(new EngineCallError(response.code, response.message, response.reason));
  }

  failAll(reason: string): void {
    for (const [id, call] of this.calls) {
      this.take(id);
      call.reject(new EngineCallError('internal', `${reason} before answering ${call.method}`));
    }
  }

  private take(id: number): PendingCall | undefined {
    const call = this.calls.get(id);
    if (!call) return undefined;
    clearTimeout(call.timer);
    this.calls.delete(id);
    return call;
  }
}
