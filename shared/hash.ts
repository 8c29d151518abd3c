import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Size and sha256 (hex) of a file, streamed: results can be larger than memory. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
