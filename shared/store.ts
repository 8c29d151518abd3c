import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { FileStore } from './file-store.ts';
import type { ObjectStore } from './object-store.ts';

/** The store named by `HIPPO_STORE` (DESIGN §12). */
export function openStore(config: Pick<Config, 'HIPPO_STORE'>, cwd = process.cwd()): ObjectStore {
  const url = config.HIPPO_STORE;
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    // `file://.hippo` (relative, as in the docs) and `file:///abs/path` both work.
    const path = rest.startsWith('/') ? fileURLToPath(url) : resolve(cwd, rest);
    return new FileStore(path);
  }
  throw new ConfigError(`HIPPO_STORE=${url}: the S3 backend is not built yet (only file:// stores work)`);
}
