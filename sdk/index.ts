export { Hippo, type HippoOptions, type RemotePipeline, type ResultFormat, type RunView, type SubmitOptions, type WaitOptions, type WatchOptions } from './client.ts';
export { HippoHttpError, ResultIntegrityError, RunFailedError, WaitTimeoutError } from './errors.ts';
export { remoteRun, runParams } from './remote.ts';
