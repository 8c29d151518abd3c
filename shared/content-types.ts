// Media types Hippo stores and serves. A module of its own, with no imports, so that code
// that only names a type (the coordinator, the results API) does not load the Arrow codec.

/**
 * An Arrow IPC stream (IANA `application/vnd.apache.arrow.stream`): how results are stored and served.
 * @example await store.putFile(key, path, { contentType: ARROW_STREAM_CONTENT_TYPE });
 */
export const ARROW_STREAM_CONTENT_TYPE = 'application/vnd.apache.arrow.stream';
