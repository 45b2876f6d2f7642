/**
 * InitProducerId's state (KIP-98): producer id allocation, and the producer id and epoch of each
 * transactional id.
 *
 * Producer ids are reserved in blocks of PRODUCER_ID_BLOCK_SIZE (1000, Kafka's ProducerIdsBlock, KIP-730):
 * the end of a block is written to disk before any id of it is handed out, so an id is never handed out
 * twice, across restarts too (the unused rest of a block is skipped after a restart, as in Kafka).
 *
 * Transactional ids, as Kafka's TransactionCoordinator.handleInitProducerId and TransactionMetadata
 * (prepareInitProducerIdTransit, prepareIncrementProducerEpoch, prepareProducerIdRotation): each keeps its
 * producer id and epoch, and the previous producer id and epoch so that a retried InitProducerId is
 * recognised. Transactions themselves (AddPartitionsToTxn, EndTxn, markers) are not implemented and not
 * advertised, so a transactional id is always in Kafka's Empty state: each InitProducerId bumps its epoch
 * (KIP-360 rules when the request names its current producer id and epoch), which fences the older producer
 * instance (its next produce gets INVALID_PRODUCER_EPOCH); a client that then begins a transaction fails at
 * AddPartitionsToTxn, an API this broker does not list in ApiVersions.
 *
 * State file `<log.dirs>/samsa-producer-ids.json`, rewritten atomically (temp file, fsync, rename) before
 * any answer that depends on the change:
 *
 *   { "version": 1,
 *     "nextProducerIdBlockStart": 2000,
 *     "transactionalIds": { "<id>": { "producerId": 5, "producerEpoch": 3, "previousProducerId": 5,
 *                                     "lastProducerEpoch": 2, "transactionTimeoutMs": 60000 } } }
 */
import { mkdir, readFile } from 'node:fs/promises';
import { SerialQueue } from '../util/serial-queue.js';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/errors.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { writeFileAtomic } from '../../storage/file-util.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
export const PRODUCER_IDS_FILE = 'samsa-producer-ids.json';
const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 0x7fff;

export interface TransactionalIdState {
  producerId: number;
  producerEpoch: number;
  previousProducerId: number;
  lastProducerEpoch: number;
  transactionTimeoutMs: number;
}

interface PersistedState {
  version: 1;
  nextProducerIdBlockStart: number;
  transactionalIds: Record<string, TransactionalIdState>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

/** Kafka's TransactionMetadata.isEpochExhausted: an epoch this high cannot be bumped safely. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

function failure(errorCode: number): InitProducerIdResult {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export class ProducerIdManager {
  private nextProducerId: number;
  private blockEnd: number;
  private readonly transactionalIds: Map<string, TransactionalIdState>;
  private readonly queue = new SerialQueue();
  /**
   * In a cluster, blocks come from the active controller (AllocateProducerIds, KIP-730), so ids are unique
   * across the nodes; null on a single node, where the block is reserved in samsa-producer-ids.json.
   */
  blockAllocator: (() => Promise<{ start: number; length: number }>) | null = null;

  private constructor(
    private readonly dir: string,
    state: PersistedState,
  ) {
    this.nextProducerId = state.nextProducerIdBlockStart;
    this.blockEnd = state.nextProducerIdBlockStart;
    this.transactionalIds = new Map(Object.entries(state.transactionalIds));
  }

  static async load(dir: string): Promise<ProducerIdManager> {
    await mkdir(dir, { recursive: true });
    let state: PersistedState = { version: 1, nextProducerIdBlockStart: 0, transactionalIds: {} };
    const path = join(dir, PRODUCER_IDS_FILE);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      // A missing file is a new broker.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      // An unreadable file must not lead to reused producer ids (two producers fencing each other's
      // sequences), so it stops the start, naming the file.
      const refuse = (why: string, cause?: unknown): never => {
        throw new LogDirFailureError(`Producer id state file ${path} is corrupt (${why}); refusing to start rather than hand out producer ids twice. Restore it from a backup.`, path, { cause });
      };
      let parsed: Partial<PersistedState>;
      try {
        parsed = JSON.parse(text) as Partial<PersistedState>;
      } catch (err) {
        return refuse((err as Error).message, err);
      }
      if (typeof parsed !== 'object' || parsed === null || parsed.version !== 1 || !Number.isSafeInteger(parsed.nextProducerIdBlockStart) || parsed.nextProducerIdBlockStart! < 0) {
        return refuse('unknown version or bad nextProducerIdBlockStart');
      }
      const ids = parsed.transactionalIds ?? {};
      const int = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
      if (typeof ids !== 'object' || ids === null || Object.values(ids).some((t) => typeof t !== 'object' || t === null || !int(t.producerId) || !int(t.producerEpoch) || !int(t.previousProducerId) || !int(t.lastProducerEpoch) || !int(t.transactionTimeoutMs))) {
        return refuse('a transactional id entry is not a producer id and epoch');
      }
      state = { version: 1, nextProducerIdBlockStart: parsed.nextProducerIdBlockStart!, transactionalIds: ids };
    }
    return new ProducerIdManager(dir, state);
  }

  /** Runs state changes one at a time, in call order. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  private persist(): Promise<void> {
    const state: PersistedState = {
      version: 1,
      nextProducerIdBlockStart: this.blockEnd,
      transactionalIds: Object.fromEntries(this.transactionalIds),
    };
    return writeFileAtomic(join(this.dir, PRODUCER_IDS_FILE), `${JSON.stringify(state, null, 2)}\n`, this.dir);
  }

  /** A producer id never handed out before; reserves (and persists) a new block when the current one is used up. */
  generateProducerId(): Promise<number> {
    return this.serially(() => this.allocate());
  }

  private async allocate(): Promise<number> {
    if (this.nextProducerId >= this.blockEnd && this.blockAllocator !== null) {
      const block = await this.blockAllocator();
      this.nextProducerId = block.start;
      this.blockEnd = block.start + block.length;
    }
    if (this.nextProducerId >= this.blockEnd) {
      const previousEnd = this.blockEnd;
      this.blockEnd = this.nextProducerId + PRODUCER_ID_BLOCK_SIZE;
      try {
        await this.persist();
      } catch (err) {
        this.blockEnd = previousEnd;
        throw err;
      }
    }
    return this.nextProducerId++;
  }

  transactionalIdState(transactionalId: string): TransactionalIdState | undefined {
    const s = this.transactionalIds.get(transactionalId);
    return s ? { ...s } : undefined;
  }

  /**
   * InitProducerId for a transactional id. `expected` is the request's (producerId, producerEpoch) when
   * given (v3+, KIP-360). PRODUCER_FENCED is returned as such; the handler maps it for old versions.
   */
  initTransactional(transactionalId: string, transactionTimeoutMs: number, expected: { producerId: number; producerEpoch: number } | null): Promise<InitProducerIdResult> {
    return this.serially(async () => {
      let current = this.transactionalIds.get(transactionalId);
      if (!current) {
        current = {
          producerId: await this.allocate(),
          producerEpoch: NO_PRODUCER_EPOCH,
          previousProducerId: NO_PRODUCER_ID,
          lastProducerEpoch: NO_PRODUCER_EPOCH,
          transactionTimeoutMs,
        };
      }
      if (expected) {
        // Fence unless the metadata was just created, the id is the current one, or this retries a rotation.
        const valid =
          current.producerEpoch === NO_PRODUCER_EPOCH ||
          expected.producerId === current.producerId ||
          (expected.producerId === current.previousProducerId && isEpochExhausted(expected.producerEpoch));
        if (!valid) return failure(ErrorCode.PRODUCER_FENCED);
      }
      let next: TransactionalIdState;
      if (isEpochExhausted(current.producerEpoch) && (expected === null || expected.producerEpoch === current.producerEpoch)) {
        next = {
          producerId: await this.allocate(),
          producerEpoch: 0,
          previousProducerId: current.producerId,
          lastProducerEpoch: expected ? current.producerEpoch : NO_PRODUCER_EPOCH,
          transactionTimeoutMs,
        };
      } else {
        const bumped = current.producerEpoch + 1;
        if (expected === null) {
          next = { producerId: current.producerId, producerEpoch: bumped, previousProducerId: current.producerId, lastProducerEpoch: NO_PRODUCER_EPOCH, transactionTimeoutMs };
        } else if (current.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === current.producerEpoch) {
          next = { producerId: current.producerId, producerEpoch: bumped, previousProducerId: current.producerId, lastProducerEpoch: current.producerEpoch, transactionTimeoutMs };
        } else if (expected.producerEpoch === current.lastProducerEpoch) {
          // A retry of an InitProducerId that succeeded: answer the current epoch again.
          next = { ...current, transactionTimeoutMs };
        } else {
          return failure(ErrorCode.PRODUCER_FENCED);
        }
      }
      const before = this.transactionalIds.get(transactionalId);
      this.transactionalIds.set(transactionalId, next);
      try {
        await this.persist();
      } catch (err) {
        if (before) this.transactionalIds.set(transactionalId, before);
        else this.transactionalIds.delete(transactionalId);
        throw err;
      }
      return { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch };
    });
  }
}
