/**
 * Prints the compression codecs of the record batches in a partition directory's segment files, one name
 * per line, so a conformance script can check that a client really compressed what it sent.
 * Usage: tsx conformance/tools/batch-codecs.ts <partition dir>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressionOf, splitBatches } from '../../protocol/records/batch.js';
import { codecName } from '../../protocol/records/compression.js';

const dir = process.argv[2]!;
const seen = new Set<string>();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
  const split = splitBatches(readFileSync(join(dir, f)));
  if (!split.ok) throw new Error(`${f}: ${split.message}`);
  for (const b of split.batches) seen.add(codecName(compressionOf(b.header.attributes)));
}
for (const c of seen) console.log(c);
