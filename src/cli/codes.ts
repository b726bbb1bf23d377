// The codes moved to src/node (the engine host reads them too); this keeps old imports working.
export * from '../node/codes';
