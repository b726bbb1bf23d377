import { SerialQueue } from '../../sync/util/serial-queue';
import type { EngineMethod, EngineParams, EngineResponse, EngineResult } from './engine-protocol';
import { toEngineError } from './to-engine-error';

/**
 * Requests answered at once, not queued behind slower ones: reads, and live notices. The
 * co-editing ones run to completion synchronously, so they still leave in the order they came
 * (an open before the frames that follow it); a keystroke never waits for a share or a join.
 */
const AT_ONCE: ReadonlySet<EngineMethod> = new Set<EngineMethod>([
  'status',
  'agentStatus',
  'chatHistory',
  'sendTyping',
  'setOpenFiles',
  'markSeen',
  'activityHistory',
  'previousVersion',
  'setActivityOptions',
  'conflictBase',
  'setActiveEditor',
  'coeditOpen',
  'coeditClose',
  'coeditSend',
]);

export type EngineHandlers = { [M in EngineMethod]: (params: EngineParams<M>) => Promise<EngineResult<M>> };

/** A message shaped like a request: what `answer` takes. */
export interface RequestLike {
  readonly id: number;
  readonly method: unknown;
  readonly params?: unknown;
}

export function isRequest(raw: unknown): raw is RequestLike {
  const r = raw as { kind?: unknown; id?: unknown };
  return typeof r === 'object' && r !== null && r.kind === 'request' && typeof r.id === 'number';
}

/**
 * Answers engine requests from any channel (the extension's IPC, a daemon's control socket)
 * with one service's handlers, through one queue: a share from the CLI and a join from the
 * extension never run at the same time.
 */
export class EngineDispatcher {
  private readonly queue = new SerialQueue();

  constructor(
    private readonly handlers: EngineHandlers,
    /** An error the service did not expect, with its stack, for the log. */
    private readonly onInternalError: (method: string, err: unknown) => void,
  ) {}

  /** The response to one request; `refused` names methods this channel does not serve. */
  answer(request: RequestLike, refused: ReadonlySet<string> = new Set()): Promise<EngineResponse> {
    const { id } = request;
    const method = String(request.method);
    const known = Object.prototype.hasOwnProperty.call(this.handlers, method) && !refused.has(method);
    const handler = known ? (this.handlers[method as EngineMethod] as (p: unknown) => Promise<unknown>) : undefined;
    const run = async (): Promise<EngineResponse> => {
      if (!handler) return { kind: 'response', id, ok: false, code: 'usage', message: `unknown method ${method}` };
      try {
        return { kind: 'response', id, ok: true, result: await handler(request.params ?? {}) };
      } catch (err) {
        const { code, message, reason } = toEngineError(err);
        if (code === 'internal') this.onInternalError(method, err);
        return { kind: 'response', id, ok: false, code, message, ...(reason ? { reason } : {}) };
      }
    };
    return AT_ONCE.has(method as EngineMethod) ? run() : this.queue.run(run);
  }
}
