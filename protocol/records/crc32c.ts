/**
 * CRC-32C (Castagnoli), as record batches use it. A native SIMD implementation (`@node-rs/crc32`, whose
 * prebuilt binary ships inside an npm package) when it loads, about 4x the speed of the JavaScript
 * `crc-32/crc32c` on a 16 KiB batch here; the JavaScript one otherwise, and for inputs under
 * NATIVE_MIN_BYTES, where the call into the addon costs more than the checksum. SAMSA_CRC32C=js forces the
 * JavaScript one.
 */
import { createRequire } from 'node:module';
import CRC32C from 'crc-32/crc32c.js';

const NATIVE_MIN_BYTES = 1024;
type NativeCrc32c = (input: Buffer, initialState?: number) => number;

function loadNative(): NativeCrc32c | null {
  if (process.env['SAMSA_CRC32C'] === 'js') return null;
  try {
    // A variable name: bundlers leave this require to run time (a native addon cannot be bundled).
    const name = '@node-rs/crc32';
    const mod = createRequire(import.meta.url)(name) as { crc32c?: unknown };
    if (typeof mod.crc32c !== 'function') return null;
    const f = mod.crc32c as NativeCrc32c;
    // The standard check value of CRC-32C: a wrong or broken build is not used.
    return f(Buffer.from('123456789')) >>> 0 === 0xe3069283 ? f : null;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which implementation serves inputs of NATIVE_MIN_BYTES and more. */
export const crc32cImplementation: 'native' | 'js' = native ? 'native' : 'js';

/** CRC-32C of `buf` as a uint32. */
export function crc32c(buf: Buffer): number {
  if (native !== null && buf.length >= NATIVE_MIN_BYTES) return native(buf) >>> 0;
  return CRC32C.buf(buf, 0) >>> 0;
}

/** The JavaScript implementation alone (tests compare the two). */
export function crc32cJs(buf: Buffer): number {
  return CRC32C.buf(buf, 0) >>> 0;
}
