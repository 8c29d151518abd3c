import { loadConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore, openStoreUrl } from '../../shared/store.ts';
import { serveFunction } from '../serve.ts';
import { createApp } from './app.ts';

const config = loadConfig();
const log = createLogger({ fn: 'backup' }, { level: config.HIPPO_LOG_LEVEL });
if (!config.HIPPO_BACKUP_STORE) throw new ConfigError('HIPPO_BACKUP_STORE is required: the store (file://<dir> or s3://<bucket>[/<prefix>]) the backup function copies HIPPO_STORE into');

serveFunction(
  createApp({
    store: openStore(config),
    backups: openStoreUrl(config.HIPPO_BACKUP_STORE, { endpoint: config.S3_ENDPOINT, name: 'HIPPO_BACKUP_STORE' }),
    keep: config.HIPPO_BACKUP_KEEP,
    log,
  }),
  { port: config.PORT, host: config.HIPPO_HOST, name: 'backup', log },
);
