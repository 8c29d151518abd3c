import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../shared/config.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { openStore } from '../../shared/store.ts';
import type { ObjectStore } from '../../shared/object-store.ts';

/** The repository root (entries of the functions are relative to it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What every command needs: the validated config, the store it names, a logger. */
export function context(): { config: Config; store: ObjectStore; log: Logger } {
  const config = loadConfig();
  return { config, store: openStore(config), log: createLogger({ fn: 'cli' }, { level: config.HIPPO_LOG_LEVEL }) };
}
