/**
 * Micro-benchmark of produce-time record validation (protocol/records/validate.ts validateBatchRecords):
 * MB/s of uncompressed record bytes scanned, per codec and record size, against two references measured
 * in the same run: the CRC-32C check every batch already pays (splitBatches), and, for compressed
 * batches, decompression alone (compression.ts decompress, no scan).
 *   node --import tsx bench/validate-micro.ts [seconds per case]
 */
import { Compression, readBatchHeader, splitBatches } from '../protocol/records/batch.js';
import { codecName, decompress, loadCodecs } from '../protocol/records/compression.js';
import { buildBatch } from '../protocol/records/record.js';
import { validateBatchRecords, type RecordValidationOptions } from '../protocol/records/validate.js';

const seconds = Number(process.argv[2] ?? 1);

const opts: RecordValidationOptions = {
  topicPartition: 'bench-0',
  compacted: true, // the key check runs too
  timestampType: 'CreateTime',
  nowMs: Date.now(),
  timestampBeforeMaxMs: 3_600_000, // and the timestamp range check
  timestampAfterMaxMs: 3_600_000,
  maxDecompressedBytes: 64 * 1024 * 1024,
};

/** Text-like values (compressible about 3-4x, as JSON would be), with a key and one header. */
function records(count: number, valueBytes: number) {
  const words = ['samsa', 'kafka', 'record', 'batch', 'offset', 'value', '{"id":', '"ts":', 'true', '1234567'];
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    let v = '';
    while (v.length < valueBytes) v += words[Math.floor(rnd() * words.length)] + ' ';
    return { key: Buffer.from(`key-${i}`), value: Buffer.from(v.slice(0, valueBytes)), timestamp: now + i, headers: [{ key: 'h', value: Buffer.from('x') }] };
  });
}

async function rate(run: () => unknown, bytesPerRun: number): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm-up
  let runs = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 10; i++) await run();
    runs += 10;
  }
  return (runs * bytesPerRun) / 1048576 / ((performance.now() - t0) / 1000);
}

await loadCodecs();
const cases = [
  { label: '16 KiB of 100 B records', count: 120, valueBytes: 100 },
  { label: '16 KiB of 1 KiB records', count: 16, valueBytes: 1000 },
  { label: '1 MiB of 1 KiB records', count: 1000, valueBytes: 1000 },
];
console.log(`validateBatchRecords, MiB/s of uncompressed batch bytes (${seconds} s per case, Node ${process.version})`);
console.log('case | codec | stored bytes | validate | decompress only | CRC-32C (splitBatches)');
for (const c of cases) {
  const input = records(c.count, c.valueBytes);
  const plain = await buildBatch(input);
  for (const codec of [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
    const batch = await buildBatch(input, { compression: codec });
    const header = readBatchHeader(batch);
    const check = await validateBatchRecords(batch, 0, batch.length, header, opts);
    if (!check.ok) throw new Error(`bench batch refused: ${check.errorMessage}`);
    const validate = await rate(() => validateBatchRecords(batch, 0, batch.length, header, opts), plain.length);
    const inflate = codec === Compression.NONE ? NaN : await rate(() => decompress(codec, batch.subarray(61)), plain.length);
    const crc = codec === Compression.NONE ? await rate(() => splitBatches(batch), plain.length) : NaN;
    console.log(`${c.label} | ${codecName(codec)} | ${batch.length} | ${validate.toFixed(0)} | ${Number.isNaN(inflate) ? '-' : inflate.toFixed(0)} | ${Number.isNaN(crc) ? '-' : crc.toFixed(0)}`);
  }
}
