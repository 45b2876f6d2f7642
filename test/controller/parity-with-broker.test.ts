/**
 * The controller refuses what the single-node broker refuses, with the same error code and message: the
 * same bad CreateTopics, CreatePartitions, DeleteTopics and IncrementalAlterConfigs requests are sent to a
 * running single-node broker (its handlers, over the wire) and to a QuorumController with that one node
 * registered, and the per-topic / per-resource answers are compared. Only refusals are compared (a
 * success differs in the topic id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePartitions, CreatePartitionsRequest } from '../../protocol/messages/create-partitions.js';
import { CreateTopics, CreateTopicsRequest } from '../../protocol/messages/create-topics.js';
import { DeleteTopics, DeleteTopicsRequest } from '../../protocol/messages/delete-topics.js';
import { IncrementalAlterConfigs, IncrementalAlterConfigsRequest } from '../../protocol/messages/incremental-alter-configs.js';
import type { MessageValue } from '../../protocol/schema.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { Harness } from './controller-harness.js';

let broker: TestBroker;
let c: RawClient;
let h: Harness;

type Topic = Partial<MessageValue<typeof CreateTopicsRequest.decl>['topics'][number]>;
const topics = (ts: Topic[], validateOnly = false): MessageValue<typeof CreateTopicsRequest.decl> => ({
  ...CreateTopicsRequest.defaults(7),
  validateOnly,
  timeoutMs: 5000,
  topics: ts.map((t) => ({ name: 'x', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...t })),
});

beforeAll(async () => {
  broker = await startTestBroker();
  c = await RawClient.connect(broker.port);
  h = new Harness(1);
  h.brokers(1);
  for (const name of ['exists', 'a.b', 'two']) {
    const n = name === 'two' ? 2 : 1;
    const req = topics([{ name, numPartitions: n }]);
    expect((await c.request(CreateTopics, 7, req)).topics[0]!.errorCode).toBe(0);
    h.commit(h.controller.createTopics(h.now, req, 7));
  }
}, 60_000);

afterAll(async () => {
  c?.close();
  await broker?.destroy();
});

const refusals = (rs: readonly { errorCode: number; errorMessage: string | null }[]) => rs.filter((r) => r.errorCode !== 0).map((r) => [r.errorCode, r.errorMessage]);

describe('the controller and the single-node broker refuse alike', () => {
  const createCases: [string, MessageValue<typeof CreateTopicsRequest.decl>][] = [
    ['bad names', topics([{ name: '' }, { name: '..' }, { name: 'a'.repeat(250) }, { name: 'sp ace' }])],
    ['existing and colliding', topics([{ name: 'exists' }, { name: 'a_b' }])],
    ['counts', topics([{ name: 'p0', numPartitions: 0 }, { name: 'pm', numPartitions: -5 }, { name: 'r0', replicationFactor: 0 }, { name: 'r2', replicationFactor: 2 }, { name: 'r9', replicationFactor: 9 }])],
    ['configs', topics([{ name: 'c1', configs: [{ name: 'retention.ms', value: 'soon' }] }, { name: 'c2', configs: [{ name: 'nope', value: '1' }] }, { name: 'c3', configs: [{ name: 'min.compaction.lag.ms', value: '10' }, { name: 'max.compaction.lag.ms', value: '5' }] }, { name: 'c4', configs: [{ name: 'cleanup.policy', value: 'shred' }] }])],
    ['duplicates', topics([{ name: 'dup' }, { name: 'dup' }])],
    ['assignments with counts', topics([{ name: 'as', numPartitions: 2, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }])],
    ['partition cap', topics([{ name: 'big1', numPartitions: 9000 }, { name: 'big2', numPartitions: 2000 }])],
    ['partition cap with defaults', topics([{ name: 'big3', numPartitions: 10_000 }, { name: 'd', numPartitions: -1 }])],
  ];
  for (const [what, req] of createCases) {
    it(`CreateTopics: ${what}`, async () => {
      const fromBroker = refusals((await c.request(CreateTopics, 7, { ...req, validateOnly: true })).topics);
      const fromController = refusals(h.controller.createTopics(h.now, { ...req, validateOnly: true }, 7).response.topics);
      expect(fromBroker.length).toBeGreaterThan(0);
      expect(fromController).toEqual(fromBroker);
    });
  }

  it('CreatePartitions', async () => {
    const req: MessageValue<typeof CreatePartitionsRequest.decl> = {
      ...CreatePartitionsRequest.defaults(3),
      timeoutMs: 5000,
      validateOnly: true,
      topics: [
        { name: 'nope', count: 3, assignments: null },
        { name: 'two', count: 2, assignments: null },
        { name: 'exists', count: 4, assignments: [{ brokerIds: [1] }] },
        { name: 'a.b', count: 2, assignments: [{ brokerIds: [1, 1] }] },
      ],
    };
    const fromBroker = refusals((await c.request(CreatePartitions, 3, req)).results);
    expect(fromBroker).toHaveLength(4);
    expect(refusals(h.controller.createPartitions(h.now, req, 3).response.results)).toEqual(fromBroker);
  });

  it('DeleteTopics', async () => {
    const req: MessageValue<typeof DeleteTopicsRequest.decl> = {
      ...DeleteTopicsRequest.defaults(6),
      timeoutMs: 5000,
      topics: [{ name: 'nope', topicId: '00000000-0000-0000-0000-000000000000' }, { name: null, topicId: '11111111-2222-4333-8444-555555555555' }],
    };
    const fromBroker = refusals((await c.request(DeleteTopics, 6, req)).responses);
    expect(fromBroker).toHaveLength(2);
    expect(refusals(h.controller.deleteTopics(h.now, req, 6).response.responses)).toEqual(fromBroker);
  });

  it('IncrementalAlterConfigs', async () => {
    const req: MessageValue<typeof IncrementalAlterConfigsRequest.decl> = {
      ...IncrementalAlterConfigsRequest.defaults(1),
      validateOnly: true,
      resources: [
        { resourceType: 2, resourceName: 'exists', configs: [{ name: 'retention.ms', configOperation: 0, value: 'x' }] },
        { resourceType: 2, resourceName: 'nope', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] },
        { resourceType: 2, resourceName: 'exists', configs: [{ name: 'segment.ms', configOperation: 2, value: '1' }] },
        { resourceType: 2, resourceName: 'bad name', configs: [] },
        { resourceType: 4, resourceName: '', configs: [{ name: 'broker.id', configOperation: 0, value: '3' }] },
        { resourceType: 4, resourceName: 'one', configs: [] },
        { resourceType: 2, resourceName: 'two', configs: [{ name: 'a', configOperation: 0, value: '1' }, { name: 'a', configOperation: 0, value: '2' }] },
      ],
    };
    const fromBroker = refusals((await c.request(IncrementalAlterConfigs, 1, req)).responses);
    expect(fromBroker).toHaveLength(7);
    expect(refusals(h.controller.incrementalAlterConfigs(h.now, req).response.responses)).toEqual(fromBroker);
  });
});
