/**
 * faults/quorum.ts: the active controller from DescribeQuorum, trying each node in turn; null when none
 * answers (a node without the API, a closed port), so the nemesis falls back to its seeded node.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:net';
import { activeController } from '../../faults/quorum.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { peekRequestHeader, responseHeaderVersion, writeResponseHeader } from '../../protocol/headers.js';
import { Writer } from '../../protocol/primitives.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A fake node: answers DescribeQuorum v1 with `leaderId`, or closes the connection when leaderId is null. */
async function fakeNode(leaderId: number | null): Promise<number> {
  const server = createServer((sock) => {
    sock.on('data', (frame: Buffer) => {
      if (leaderId === null) return void sock.destroy();
      const { apiKey, apiVersion, correlationId } = peekRequestHeader(frame.subarray(4));
      expect(apiKey).toBe(55);
      const w = new Writer();
      w.int32(0);
      writeResponseHeader(w, correlationId, responseHeaderVersion(55, true));
      DescribeQuorum.response.encode(w, {
        errorCode: 0,
        topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, errorCode: 0, leaderId, leaderEpoch: 3, highWatermark: 10n, currentVoters: [], observers: [] }] }],
      }, apiVersion);
      const out = w.toBuffer();
      out.writeInt32BE(out.length - 4, 0);
      sock.write(out);
    });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

describe('activeController', () => {
  it('returns the leader id a node reports, skipping nodes that do not answer', async () => {
    const silent = await fakeNode(null);
    const answering = await fakeNode(2);
    expect(await activeController([silent, answering])).toBe(2);
  });

  it('is null when no node answers', async () => {
    const silent = await fakeNode(null);
    expect(await activeController([silent, 1])).toBeNull();
  });

  it('is null when the quorum has no leader (-1)', async () => {
    expect(await activeController([await fakeNode(-1)])).toBeNull();
  });
});
