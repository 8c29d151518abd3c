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
  return openStoreUrl(config.HIPPO_STORE, { endpoint: config.S3_ENDPOINT, name: 'HIPPO_STORE', cwd });
}

/**
 * The store at any store URL (`HIPPO_BACKUP_STORE`, a CLI's `--to`); a bad URL is a
 * ConfigError starting with `name=` (the variable or option it came from).
 * @example openStoreUrl(config.HIPPO_BACKUP_STORE, { endpoint: config.S3_ENDPOINT, name: 'HIPPO_BACKUP_STORE' })
 */
export function openStoreUrl(url: string, options: { endpoint?: string; name?: string; cwd?: string } = {}): ObjectStore {
  const name = options.name ?? 'HIPPO_STORE';
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    // `file://.hippo` (relative, as in the docs) and `file:///abs/path` both work.
    const path = rest.startsWith('/') ? fileURLToPath(url) : resolve(options.cwd ?? process.cwd(), rest);
    return new FileStore(path);
  }
  if (url.startsWith('s3://')) {
    try {
      return new S3Store(url, { endpoint: options.endpoint });
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${name}=${err.message}`);
      throw err;
    }
  }
  throw new ConfigError(`${name}=${url}: must be file://<dir> or s3://<bucket>[/<prefix>]`);
}
