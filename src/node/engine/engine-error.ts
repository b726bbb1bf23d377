import type { EngineErrorCode } from './engine-protocol';

/**
 * A failure the engine host reports with a code of its own choosing. A leaf: modules the agent
 * uses (the co-editing router) throw it without depending on the agent's other errors.
 */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
