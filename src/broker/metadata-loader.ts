/**
 * The broker's metadata loader (Kafka's MetadataLoader + BrokerMetadataPublisher, KIP-631): committed
 * records of `__cluster_metadata` come in, in log order, from the local Raft node; each is decoded
 * (protocol/metadata/serde.ts) and applied (metadata-replay.ts) to the image being built, and the
 * resulting image is handed to the broker once per delivery (Broker.publishImage), so a handler never
 * sees half of a batch.
 *
 * Snapshots (KIP-630): the image can also be reset to a snapshot's (loadSnapshot: at start from the
 * newest `.checkpoint`, or when the Raft node installed one fetched from the leader), and the loader is
 * Kafka's SnapshotGenerator too: once the committed records applied since the last snapshot reach
 * metadata.log.max.record.bytes.between.snapshots (or metadata.log.max.snapshot.interval.ms passed with
 * some), it asks for a snapshot of the image (the `snapshots.write` option).
 *
 * Control records (LeaderChange, snapshot markers) only move the image's offset. A record that does not
 * decode or does not apply is a fault: the loader stops at the last good image and reports it (the node
 * then stops with the reason logged), because serving a metadata image that skipped a record would be
 * serving a different cluster than the one the quorum agreed on.
 */
import type { Logger } from 'pino';
import { decodeMetadataRecord } from '../../protocol/metadata/serde.js';
import type { MetadataImage } from './metadata-image.js';
import { imageFromRecords } from './metadata-image-records.js';
import { applyMetadataRecord } from './metadata-replay.js';

/** A committed record as the Raft node delivers it. */
export interface CommittedMetadataRecord {
  readonly offset: number;
  /** The control record type (LeaderChange = 2, ...), null for a metadata record. */
  readonly control: number | null;
  readonly value: Buffer;
}

export class MetadataLoadError extends Error {
  override readonly name = 'MetadataLoadError';
}

export interface MetadataLoaderOptions {
  readonly initial: MetadataImage;
  readonly publish: (image: MetadataImage) => Promise<void>;
  readonly onFault: (err: MetadataLoadError) => void;
  readonly logger: Logger;
  /** When to snapshot the image (Kafka's SnapshotGenerator); absent: never. */
  readonly snapshots?: {
    /** metadata.log.max.record.bytes.between.snapshots. */
    readonly maxNewRecordBytes: number;
    /** metadata.log.max.snapshot.interval.ms (0: off). */
    readonly maxIntervalMs: number;
    readonly now: () => number;
    /** Writes a snapshot of `image` (at image.offset + 1); called once per trigger, never concurrently with itself. */
    readonly write: (image: MetadataImage) => Promise<unknown>;
  };
}

export class MetadataLoader {
  private image: MetadataImage;
  private failed: MetadataLoadError | null = null;
  private controllerId = -1;
  /** Bytes of committed records applied since the last snapshot, and when that was (SnapshotGenerator). */
  private bytesSinceSnapshot = 0;
  private lastSnapshotAt: number;
  private writing = false;

  constructor(private readonly options: MetadataLoaderOptions) {
    this.image = options.initial;
    this.lastSnapshotAt = options.snapshots?.now() ?? 0;
  }

  /**
   * The image becomes the snapshot's (its metadata record frames, ending at snapshot end offset
   * `endOffset`), keeping the cluster id and controller; published. A snapshot that does not apply is a
   * fault like a record that does not.
   */
  loadSnapshot(values: readonly Buffer[], endOffset: number): Promise<void> {
    if (this.failed !== null) return Promise.resolve();
    try {
      this.image = imageFromRecords(values, endOffset, this.image);
    } catch (err) {
      this.failed = new MetadataLoadError(`the metadata snapshot ending at offset ${endOffset} cannot be loaded: ${(err as Error).message}`, { cause: err });
      this.options.logger.fatal({ endOffset, err }, this.failed.message);
      this.options.onFault(this.failed);
      return Promise.resolve();
    }
    this.bytesSinceSnapshot = 0;
    this.options.logger.info({ endOffset, records: values.length }, 'metadata image loaded from a snapshot');
    return this.options.publish(this.image);
  }

  /** The latest image built (published or about to be). */
  get latest(): MetadataImage {
    return this.image;
  }

  /** The offset of the last record applied (-1 before any). */
  get appliedOffset(): number {
    return this.image.offset;
  }

  get fault(): MetadataLoadError | null {
    return this.failed;
  }

  /** Applies committed records (in offset order, none skipped) and publishes the new image. */
  apply(records: readonly CommittedMetadataRecord[]): Promise<void> {
    if (this.failed !== null || records.length === 0) return Promise.resolve();
    let image = this.image;
    for (const r of records) {
      if (r.offset <= image.offset) continue; // delivered again (a replay from the start after a restart of the feed)
      this.bytesSinceSnapshot += r.value.length;
      if (r.control !== null) {
        image = image.withOffset(r.offset);
        continue;
      }
      try {
        image = applyMetadataRecord(image, decodeMetadataRecord(r.value), r.offset);
      } catch (err) {
        this.failed = new MetadataLoadError(`metadata record at offset ${r.offset} of __cluster_metadata-0 cannot be applied: ${(err as Error).message}`, { cause: err });
        this.options.logger.fatal({ offset: r.offset, err }, this.failed.message);
        // Publish what applied before the fault, then report it.
        this.image = image;
        void this.options.publish(image);
        this.options.onFault(this.failed);
        return Promise.resolve();
      }
    }
    this.image = image;
    const published = this.options.publish(image);
    this.maybeSnapshot();
    return published;
  }

  /** SnapshotGenerator: enough bytes, or enough time with some bytes, since the last snapshot. */
  private maybeSnapshot(): void {
    const o = this.options.snapshots;
    if (o === undefined || this.writing || this.bytesSinceSnapshot === 0) return;
    const now = o.now();
    if (this.bytesSinceSnapshot < o.maxNewRecordBytes && (o.maxIntervalMs <= 0 || now - this.lastSnapshotAt < o.maxIntervalMs)) return;
    this.bytesSinceSnapshot = 0;
    this.lastSnapshotAt = now;
    this.writing = true;
    const image = this.image;
    void o
      .write(image)
      .catch((err: unknown) => this.options.logger.warn({ err, offset: image.offset }, 'writing a metadata snapshot failed'))
      .finally(() => {
        this.writing = false;
      });
  }

  /** The quorum's leader changed: clients are told the active controller's id (DescribeCluster). */
  setController(controllerId: number): Promise<void> {
    if (controllerId === this.controllerId) return Promise.resolve();
    this.controllerId = controllerId;
    this.image = this.image.withCluster(this.image.clusterId, controllerId);
    return this.options.publish(this.image);
  }
}
