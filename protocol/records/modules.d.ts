// Types for the untyped CommonJS codec packages used by protocol/records.

declare module 'snappyjs' {
  /** Raw snappy block format (no framing). */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
}

/**
 * The pure-JS LZ4 block codec inside the `lz4` package. The package's entry point loads a native addon
 * built by an install script, which npm no longer runs by default, so only this file is imported.
 */
declare module 'lz4/lib/binding.js' {
  /** Worst-case compressed size of `inputSize` bytes. */
  export function compressBound(inputSize: number): number;
  /**
   * Compresses `src` as one LZ4 block into `dst` (at least compressBound(src.length) bytes).
   * Returns the compressed size, or 0 when the input is incompressible.
   */
  export function compress(src: Uint8Array, dst: Uint8Array, sIdx?: number, eIdx?: number): number;
}
