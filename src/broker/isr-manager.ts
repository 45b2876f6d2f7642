/**
 * The leader's ISR changes on their way to the controller (Kafka's AlterPartitionManager, KIP-497/841):
 * partitions propose a new ISR (Partition.maybeExpandIsr / maybeShrinkIsr), at most one change per
 * partition is outstanding (the partition's own pending state guards that), and the proposals waiting
 * are sent together in one AlterPartition v3 (topic ids, the partition epoch and each member's broker
 * epoch, KIP-903; the version Kafka's brokers send, which every controller of ours serves) with one
 * request in flight at a time. Each partition gets its own answer; a request the
 * controller could not be reached for rejects its proposals (the partition goes back to its committed
 * ISR and proposes again on its next trigger). The controller commits a PartitionChangeRecord, which
 * also comes back through the metadata image (Partition.makeLeader).
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { AlterPartition, type AlterPartitionRequest, type AlterPartitionResponse } from '../../protocol/messages/alter-partition.js';
import type { MessageInput, MessageValue } from '../../protocol/schema.js';
import type { MetadataImage } from './metadata-image.js';
import type { IsrProposal, IsrProposalResult, Partition } from './partition.js';
import { BrokerNotRegisteredError } from './isr-errors.js';

export type AlterPartitionRequestBody = MessageInput<typeof AlterPartitionRequest.decl>;
export type AlterPartitionResponseBody = MessageValue<typeof AlterPartitionResponse.decl>;

/** Delivers one AlterPartition to the active controller (the broker's ControllerChannel in a cluster). */
export type AlterPartitionTransport = (request: AlterPartitionRequestBody) => Promise<AlterPartitionResponseBody>;

interface Queued {
  readonly partition: Partition;
  readonly proposal: IsrProposal;
  readonly resolve: (r: IsrProposalResult) => void;
  readonly reject: (err: unknown) => void;
}

export class IsrManager {
  private queue: Queued[] = [];
  private inFlight = false;
  /** How requests reach the controller; null outside a cluster (proposals then fail). */
  transport: AlterPartitionTransport | null = null;
  /**
   * This process's own broker epoch (the registration answer's, Kafka's `brokerEpochSupplier` from the
   * lifecycle manager), -1 while not registered; null: the image's registration of this node id (tests
   * without a lifecycle). Never the image's alone in a real node: after a restart the image still holds the
   * previous process's registration, which the controller accepts until its session expires, and a process
   * that has not registered yet (its log perhaps cut short by the crash) must not change any ISR.
   */
  localBrokerEpoch: (() => bigint) | null = null;

  constructor(
    private readonly nodeId: number,
    private readonly image: () => MetadataImage,
    private readonly logger: Logger,
  ) {}

  submit(partition: Partition, proposal: IsrProposal): Promise<IsrProposalResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ partition, proposal, resolve, reject });
      this.maybeSend();
    });
  }

  private maybeSend(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const transport = this.transport;
    if (transport === null) {
      for (const q of batch) q.reject(new Error('no controller to send AlterPartition to'));
      return;
    }
    const image = this.image();
    const own = this.localBrokerEpoch === null ? BigInt(image.brokers.get(this.nodeId)?.epoch ?? -1) : this.localBrokerEpoch();
    if (own < 0n) {
      // not registered (yet, or again): the proposals go back to their partitions' committed ISR
      for (const q of batch) q.reject(new BrokerNotRegisteredError());
      return;
    }
    this.inFlight = true;
    const brokerEpoch = (id: number): bigint => (id === this.nodeId ? own : BigInt(image.brokers.get(id)?.epoch ?? -1));
    const topics = new Map<string, { topicId: string; partitions: object[] }>();
    for (const q of batch) {
      let t = topics.get(q.partition.topicId);
      if (!t) topics.set(q.partition.topicId, (t = { topicId: q.partition.topicId, partitions: [] }));
      t.partitions.push({
        partitionIndex: q.partition.partition,
        leaderEpoch: q.proposal.leaderEpoch,
        newIsrWithEpochs: q.proposal.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: brokerEpoch(brokerId) })),
        leaderRecoveryState: 0,
        partitionEpoch: q.proposal.partitionEpoch,
      });
    }
    const request = { brokerId: this.nodeId, brokerEpoch: own, topics: [...topics.values()] } as AlterPartitionRequestBody;
    transport(request)
      .then(
        (response) => this.deliver(batch, response),
        (err: unknown) => {
          for (const q of batch) q.reject(err);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.maybeSend();
      });
  }

  private deliver(batch: readonly Queued[], response: AlterPartitionResponseBody): void {
    const answers = new Map<string, IsrProposalResult>();
    for (const t of response.topics) {
      for (const p of t.partitions) answers.set(`${t.topicId}:${p.partitionIndex}`, { errorCode: p.errorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, isr: p.isr, partitionEpoch: p.partitionEpoch });
    }
    for (const q of batch) {
      const answer = answers.get(`${q.partition.topicId}:${q.partition.partition}`);
      if (response.errorCode !== ErrorCode.NONE) {
        q.resolve({ errorCode: response.errorCode, leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 });
      } else if (answer) {
        q.resolve(answer);
      } else {
        this.logger.warn({ partition: q.partition.key }, 'AlterPartition answer without the partition');
        q.resolve({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 });
      }
    }
  }
}

export { AlterPartition };
