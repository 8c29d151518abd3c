export { Hippo, type HippoOptions, type RunView, type WaitOptions, type ResultFormat } from './client.ts';
export { HippoHttpError, RunFailedError, WaitTimeoutError } from './errors.ts';
