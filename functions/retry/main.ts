import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { serveFunction } from '../serve.ts';
import { createApp } from './app.ts';

const config = loadConfig();
const log = createLogger({ fn: 'retry' }, { level: config.HIPPO_LOG_LEVEL });
serveFunction(createApp({ log, tiers: config.HIPPO_TIERS.length }), { port: config.PORT, host: config.HIPPO_HOST, name: 'retry', log });
