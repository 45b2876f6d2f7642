// Types for the untyped CommonJS codec packages used by protocol/records.

declare module 'snappyjs' {
  /** Raw snappy block format (no framing). */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
}
