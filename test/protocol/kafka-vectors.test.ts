/**
 * Response frames written by a real Apache Kafka broker (test/vectors/kafka/, recaptured by
 * conformance/tools/capture-kafka-vectors.ts): each must decode completely with our declaration and
 * re-encode to exactly Kafka's bytes. The bytes are Kafka's, so this catches a declaration mistake that a
 * round trip through our own encoder cannot (a field in the wrong place, a wrong width, a missing tag).
 * File names: <Api>-v<version>-response-kafka-<kafka version>.bin (the frame without its size prefix).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../protocol/apis.js';
import { readResponseHeader, responseHeaderVersion, writeResponseHeader } from '../../protocol/headers.js';
import { Reader, Writer } from '../../protocol/primitives.js';

const DIR = join(__dirname, '../vectors/kafka');
const byName = new Map(ALL_APIS.map((a) => [a.name, a]));
const files = readdirSync(DIR).filter((f) => f.endsWith('.bin')).sort();
const NAME = /^([A-Za-z]+)-v(\d+)-response-kafka-(\d+\.\d+\.\d+)\.bin$/;

describe('responses captured from Apache Kafka decode and re-encode byte for byte', () => {
  it('cover the data, admin and group APIs', () => {
    const apis = new Set(files.map((f) => NAME.exec(f)?.[1]));
    for (const name of ['ApiVersions', 'Metadata', 'Produce', 'Fetch', 'ListOffsets', 'FindCoordinator', 'CreateTopics', 'DeleteTopics', 'DescribeConfigs', 'OffsetCommit', 'OffsetFetch', 'JoinGroup']) {
      expect(apis, name).toContain(name);
    }
    expect(files.length).toBeGreaterThan(50);
  });

  it('cover the controller RPCs of a KRaft cluster (conformance/tools/capture-controller-vectors.ts)', () => {
    const apis = new Set(files.map((f) => NAME.exec(f)?.[1]));
    for (const name of ['BrokerRegistration', 'BrokerHeartbeat', 'AlterPartition', 'AllocateProducerIds', 'ControllerRegistration', 'ElectLeaders', 'UnregisterBroker']) {
      expect(apis, name).toContain(name);
    }
  });

  for (const file of files) {
    it(file, () => {
      const m = NAME.exec(file);
      expect(m, `file name ${file}`).not.toBeNull();
      const api = byName.get(m![1]!);
      expect(api, `api ${m![1]}`).toBeDefined();
      const version = Number(m![2]);
      const bytes = readFileSync(join(DIR, file));
      const headerVersion = responseHeaderVersion(api!.apiKey, api!.response.isFlexible(version));
      const r = new Reader(bytes);
      const header = readResponseHeader(r, headerVersion);
      const body = api!.response.decode(r, version);
      expect(r.remaining(), 'bytes left after decoding').toBe(0);
      const w = new Writer();
      writeResponseHeader(w, header.correlationId, headerVersion);
      api!.response.encode(w, body, version);
      expect(w.toBuffer().toString('hex')).toBe(bytes.toString('hex'));
    });
  }
});
