/**
 * meta.properties (storage/meta-properties.ts) for the nodes of one cluster: nodes started with the same
 * defaults share the default cluster.id, so each accepts its own directory; a directory of another node or
 * of another cluster is refused with Kafka's messages (MetaPropertiesEnsemble.verify), and the file is left
 * as it was. (test/integration/topic-incarnations.test.ts checks the same refusals through a whole broker.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { LogDirFailureError } from '../../storage/errors.js';
import { ensureMetaProperties } from '../../storage/meta-properties.js';
import { tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function dir(): Promise<string> {
  const t = await tempDir('samsa-meta-');
  cleanups.push(t.cleanup);
  return t.path;
}

/** Node `id` of the three-node cluster of issue 11, with nothing but Kafka's cluster properties set. */
function clusterNode(id: number, logDir: string) {
  return buildConfig(new Map(Object.entries({
    'node.id': String(id), 'process.roles': 'broker,controller', 'controller.listener.names': 'CONTROLLER',
    'controller.quorum.voters': '1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093',
    listeners: `PLAINTEXT://127.0.0.1:${9091 + id},CONTROLLER://127.0.0.1:${19090 + id}`, 'log.dirs': logDir,
  })));
}

describe('meta.properties of the nodes of one cluster', () => {
  it('nodes configured alike share the default cluster.id; each accepts its own directory again', async () => {
    const dirs = [await dir(), await dir(), await dir()];
    const configs = dirs.map((d, i) => clusterNode(i + 1, d));
    expect(new Set(configs.map((c) => c.clusterId)).size).toBe(1);
    for (const c of configs) {
      const first = await ensureMetaProperties(c.logDirs, { clusterId: c.clusterId, nodeId: c.nodeId });
      const again = await ensureMetaProperties(c.logDirs, { clusterId: c.clusterId, nodeId: c.nodeId });
      expect(again).toEqual(first);
      expect(first.nodeId).toBe(c.nodeId);
    }
  });

  it("a node refuses another node's directory and another cluster's, with Kafka's messages, leaving the file as it was", async () => {
    const d = await dir();
    const node1 = clusterNode(1, d);
    await ensureMetaProperties(d, { clusterId: node1.clusterId, nodeId: 1 });
    const path = join(d, 'meta.properties');
    const before = await readFile(path, 'utf8');

    const node2 = clusterNode(2, d);
    const other = ensureMetaProperties(d, { clusterId: node2.clusterId, nodeId: node2.nodeId });
    await expect(other).rejects.toBeInstanceOf(LogDirFailureError);
    await expect(other).rejects.toThrow(
      `Stored node id 1 doesn't match previous node id 2 in ${path}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.`,
    );
    await expect(ensureMetaProperties(d, { clusterId: 'another-cluster', nodeId: 1 })).rejects.toThrow(`Invalid cluster.id in: ${path}. Expected another-cluster, but read ${node1.clusterId}`);
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});
