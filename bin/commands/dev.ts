import { createLogger } from '../../shared/log.ts';
import { ensureDemoData } from '../../local/demo.ts';
import { startLocalPlatform } from '../../local/dev.ts';
import { context, ROOT } from './context.ts';

export async function devCommand(opts: { demo?: boolean; port: string; brokerPort: string; idle?: string }): Promise<void> {
  const ctx = context();
  const { store } = ctx;
  // The platform's log lines (this process and every function's) stay at warn unless asked:
  // the console is for the user.
  const config = { ...ctx.config, HIPPO_LOG_LEVEL: process.env.HIPPO_LOG_LEVEL ? ctx.config.HIPPO_LOG_LEVEL : ('warn' as const) };
  const log = createLogger({ fn: 'dev' }, { level: config.HIPPO_LOG_LEVEL });
  const say = (s: string) => process.stdout.write(s + '\n');
  if (opts.demo) {
    const ingested = await ensureDemoData(store, (m) => say(`  ${m}`));
    if (ingested) say(`demo data ingested into ${store.url}`);
  }
  const platform = await startLocalPlatform({
    config,
    store,
    root: ROOT,
    port: Number(opts.port),
    brokerPort: Number(opts.brokerPort),
    idleMs: Number(opts.idle ?? config.HIPPO_IDLE_SECONDS) * 1000,
    log,
  });
  const auth = config.HIPPO_TOKEN ? ` -H 'authorization: Bearer $HIPPO_TOKEN'` : '';
  say(`
Hippo is running (store ${store.url}).
  runs API   ${platform.runsUrl}
  dashboard  ${platform.runsUrl}/   (a browser${config.HIPPO_TOKEN ? '; open it once as /?token=$HIPPO_TOKEN' : ''})
  broker     ${platform.brokerUrl}   (POST CloudEvents here, or to the runs API)

Submit an equity-panel run:
  curl -s -X POST ${platform.runsUrl}/runs -H 'content-type: application/json'${auth} \\
    -d '{"pipeline":"equity-panel","params":{"start":"2010-01-04","end":"2010-12-31"}}'
or earnings calls as speaker turns:
  curl -s -X POST ${platform.runsUrl}/runs -H 'content-type: application/json'${auth} \\
    -d '{"pipeline":"transcripts","params":{"start":"2020-01-01","end":"2020-12-31"}}'
Then:
  curl -s ${platform.runsUrl}/runs/<id>${auth}
  curl -s ${platform.runsUrl}/runs/<id>/result${auth} -o panel.arrow     (?format=csv|parquet)

Ctrl-C stops everything.`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      say('\nstopping…');
      platform.stop().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
