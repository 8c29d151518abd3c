import { loadConfig } from '../../shared/config.ts';
import { DUCKDB_MEMORY_SHARE } from '../../shared/duckdb.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store.ts';
import { serveFunction } from '../serve.ts';
import { createApp } from './app.ts';

const config = loadConfig();
const log = createLogger({ fn: 'ingest' }, { level: config.HIPPO_LOG_LEVEL });
const memory = config.HIPPO_MEMORY_LIMIT ?? config.HIPPO_TIERS[0]!;
const app = createApp({ store: openStore(config), duckdb: { memoryLimitBytes: Math.floor(memory * DUCKDB_MEMORY_SHARE) }, log });
serveFunction(app, { port: config.PORT, host: config.HIPPO_HOST, name: 'ingest', log });
