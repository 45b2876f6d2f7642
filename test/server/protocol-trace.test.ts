/**
 * The protocol trace (samsa.protocol.trace) decodes the Raft RPCs of the controller listener (KIP-595) and
 * the controller RPCs (KIP-631) like every other API: decodeRequestFrame picks the decoder by API key from
 * protocol/apis.ts, at every declared version; a listener logs a request it does not serve, decoded, before
 * closing the connection; and a client connection (BrokerConnection, as a broker's channel to the
 * controller uses it) logs what it sends and receives. Checked against a real broker with trace on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { writeRequestHeader } from '../../protocol/headers.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { Vote } from '../../protocol/messages/vote.js';
import { BrokerRegistration } from '../../protocol/messages/broker-registration.js';
import { ProtocolError, Writer } from '../../protocol/primitives.js';
import type { ApiMessages, MessageDecl, MessageInput } from '../../protocol/schema.js';
import { startBroker } from '../../src/app.js';
import { BrokerConnection, ConnectionError } from '../../src/client/connection.js';
import { buildConfig } from '../../src/config.js';
import { decodeRequestFrame } from '../../src/server/trace-decode.js';

const QUORUM_AND_CONTROLLER_RPCS = [
  'Vote', 'BeginQuorumEpoch', 'EndQuorumEpoch', 'Fetch', 'FetchSnapshot', 'DescribeQuorum',
  'BrokerRegistration', 'BrokerHeartbeat', 'UnregisterBroker', 'AlterPartition', 'AllocateProducerIds', 'ElectLeaders', 'ControllerRegistration',
];

function requestFrame<Req extends MessageDecl, Res extends MessageDecl>(api: ApiMessages<Req, Res>, version: number, body: MessageInput<Req>, correlationId = 7): Buffer {
  const w = new Writer();
  writeRequestHeader(w, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: 'raft-client-2' }, api.request.isFlexible(version));
  api.request.encode(w, body, version);
  return w.toBuffer();
}

const voteBody = {
  clusterId: 'samsa-local-cluster-0001', voterId: 1,
  topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, replicaEpoch: 5, replicaId: 2, lastOffsetEpoch: 4, lastOffset: 42n }] }],
};

/** A pino logger whose JSON lines land in `lines`. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function until(what: string, check: () => boolean, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('decodeRequestFrame', () => {
  it('decodes every declared version of every Raft and controller RPC, naming the API', () => {
    const byName = new Map(ALL_APIS.map((a) => [a.name, a]));
    let decoded = 0;
    for (const name of QUORUM_AND_CONTROLLER_RPCS) {
      const api = byName.get(name);
      expect(api, name).toBeDefined();
      for (let v = api!.request.validVersions.min; v <= api!.request.validVersions.max; v++) {
        const t = decodeRequestFrame(requestFrame(api!, v, {}, 1000 + v));
        expect([t.api, t.apiKey, t.version, t.correlationId, t.clientId]).toEqual([name, api!.apiKey, v, 1000 + v, 'raft-client-2']);
        decoded++;
      }
    }
    expect(decoded).toBeGreaterThan(30);
  });

  it('gives the field values as JSON (int64 as decimal strings)', () => {
    const t = decodeRequestFrame(requestFrame(Vote, 2, voteBody));
    expect(t.request).toMatchObject({ clusterId: 'samsa-local-cluster-0001', voterId: 1, topics: [{ topicName: '__cluster_metadata', partitions: [{ replicaEpoch: 5, replicaId: 2, lastOffset: '42', preVote: false }] }] });
    const reg = decodeRequestFrame(requestFrame(BrokerRegistration, 4, { brokerId: 3, clusterId: 'c', incarnationId: '00000000-0000-0000-0000-000000000001', listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9094, securityProtocol: 0 }], rack: null }));
    expect(reg.request).toMatchObject({ brokerId: 3, listeners: [{ name: 'PLAINTEXT', port: 9094 }], previousBrokerEpoch: '-1' });
  });

  it('refuses an undeclared API key or version with a ProtocolError', () => {
    const frame = requestFrame(Vote, 2, voteBody);
    frame.writeInt16BE(9999, 0);
    expect(() => decodeRequestFrame(frame)).toThrow(ProtocolError);
    const v9 = requestFrame(Vote, 2, voteBody);
    v9.writeInt16BE(9, 2);
    expect(() => decodeRequestFrame(v9)).toThrow(/Vote v9 is not a declared version/);
  });
});

describe('the trace on a running broker', () => {
  it('the listener logs a Raft RPC it does not serve, decoded, before closing; the client side logs what it sent and received', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-trace-'));
    const server = capture();
    const client = capture();
    const config = buildConfig(new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'samsa.protocol.trace': 'true', 'samsa.schema.registry.enable': 'false', 'samsa.http.listeners': '' })));
    const running = await startBroker(config, server.logger);
    try {
      const conn = await BrokerConnection.open('127.0.0.1', running.port, { clientId: 'trace-test', timeoutMs: 10_000, trace: client.logger });
      const { version } = await conn.request(Metadata, { topics: [] });
      const clientLines = client.lines.filter((l) => l.api === 'Metadata');
      expect(clientLines.map((l) => [l.side, l.msg, l.version])).toEqual([['client', 'request', version], ['client', 'response', version]]);
      expect(clientLines[1]!.response).toMatchObject({ brokers: [{ nodeId: 1, port: running.port }] });
      await until('the server traces Metadata', () => server.lines.some((l) => l.api === 'Metadata' && l.msg === 'response'));

      // This listener serves no Vote: the request is traced decoded, then the connection closes.
      await expect(conn.send(Vote, 2, voteBody)).rejects.toBeInstanceOf(ConnectionError);
      const served = server.lines.find((l) => l.api === 'Vote');
      expect(served).toMatchObject({ msg: 'request', version: 2, served: false, clientId: 'trace-test', request: { topics: [{ partitions: [{ replicaEpoch: 5, lastOffset: '42' }] }] } });
      expect(client.lines.find((l) => l.api === 'Vote')).toMatchObject({ side: 'client', msg: 'request', request: { voterId: 1 } });
      conn.close();
    } finally {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
