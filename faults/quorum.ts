/**
 * The active controller (the Raft leader of __cluster_metadata), asked with DescribeQuorum (API 55) over the
 * clients' links, as kafka-metadata-quorum.sh does; for nemeses that target the controller. A node that does
 * not answer it (today's single node has no handler for it) gives null and the nemesis uses its seeded node.
 */
import { DescribeQuorum } from '../protocol/messages/describe-quorum.js';
import { RawClient } from '../test/helpers/raw-client.js';

export async function activeController(ports: number[], timeoutMs = 3000): Promise<number | null> {
  for (const port of ports) {
    let c: RawClient | null = null;
    try {
      c = await RawClient.connect(port);
      const pending = c.request(DescribeQuorum, 1, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([pending, new Promise<null>((res) => (timer = setTimeout(() => res(null), timeoutMs)))]);
      clearTimeout(timer);
      pending.catch(() => {});
      const p = r?.topics[0]?.partitions[0];
      if (r && r.errorCode === 0 && p && p.errorCode === 0 && p.leaderId >= 0) return p.leaderId;
    } catch {
      // try the next node
    } finally {
      c?.close();
    }
  }
  return null;
}
