/**
 * Arrow IPC's ZSTD codec for Node (which has no built-in zstd), and decoding. Depends on
 * apache-arrow and zstd-napi only — no server code — so the SDK uses it too.
 */
import { CompressionType, compressionRegistry, tableFromIPC, type Table } from 'apache-arrow';
import { Compressor, Decompressor } from 'zstd-napi';

/** Arrow C++ (pyarrow) also defaults to level 1: on columnar data higher levels cost far more time than they save bytes. */
const ZSTD_LEVEL = 1;

let zstdRegistered = false;

/**
 * Registers ZSTD with apache-arrow's `compressionRegistry`, so that writers can compress and
 * readers can decompress record batch bodies. Safe to call repeatedly.
 *
 * @example registerZstd(); new RecordBatchStreamWriter({ compressionType: CompressionType.ZSTD })
 */
export function registerZstd(): void {
  if (zstdRegistered) return;
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: ZSTD_LEVEL });
  const decompressor = new Decompressor();
  compressionRegistry.set(CompressionType.ZSTD, {
    encode: (data) => compressor.compress(data),
    decode: (data) => {
      const out = decompressor.decompress(data);
      // Small Buffers come from Node's shared pool at any offset; Arrow views them as
      // Float64Array/BigInt64Array, which need 8-byte alignment.
      return out.byteOffset % 8 === 0 ? out : new Uint8Array(out);
    },
  });
  zstdRegistered = true;
}

/**
 * Decodes an Arrow IPC stream (or file), ZSTD-compressed or not, into a Table.
 *
 * @example readArrow(await readFile('r.arrow')).getChild('date')
 */
export function readArrow(bytes: Uint8Array): Table {
  registerZstd();
  return tableFromIPC(bytes);
}
