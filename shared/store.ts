import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { FileStore } from './file-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3-store.ts';

/**
 * The store named by `HIPPO_STORE` (DESIGN §12): `file://<dir>`, or `s3://<bucket>[/<prefix>]`
 * at `S3_ENDPOINT` (path-style) or AWS, with the standard AWS variables for credentials and
 * region. An S3 bucket is created on first use if it is missing.
 * @example openStore({ HIPPO_STORE: 's3://hippo/dev', S3_ENDPOINT: 'http://127.0.0.1:5000' })
 */
export function openStore(config: Pick<Config, 'HIPPO_STORE' | 'S3_ENDPOINT'>, cwd = process.cwd()): ObjectStore {
  const url = config.HIPPO_STORE;
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    // `file://.hippo` (relative, as in the docs) and `file:///abs/path` both work.
    const path = rest.startsWith('/') ? fileURLToPath(url) : resolve(cwd, rest);
    return new FileStore(path);
  }
  if (url.startsWith('s3://')) {
    try {
      return new S3Store(url, { endpoint: config.S3_ENDPOINT });
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`HIPPO_STORE=${err.message}`);
      throw err;
    }
  }
  throw new ConfigError(`HIPPO_STORE=${url}: must be file://<dir> or s3://<bucket>[/<prefix>]`);
}
