import type { ChunkingParams } from '../../sync/model/chunker';
import type { ContentDigest, StoreEntry } from '../../sync/ports/ports';

/** Work the main thread hands to a file system worker, and what comes back. */
export type FsRequest =
  | { readonly kind: 'walk'; readonly root: string; readonly under: string; readonly ignoreText: string }
  | { readonly kind: 'digest'; readonly files: readonly DigestJob[]; readonly chunking: ChunkingParams };

export interface DigestJob {
  readonly abs: string;
  readonly size: number;
}

export type FsResult =
  | { readonly kind: 'walk'; readonly entries: StoreEntry[] }
  /** null where the file changed, shrank or vanished while it was read. */
  | { readonly kind: 'digest'; readonly digests: (ContentDigest | null)[] };

export interface FsRequestMessage {
  readonly id: number;
  readonly request: FsRequest;
}

export type FsReplyMessage =
  | { readonly id: number; readonly result: FsResult }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };
