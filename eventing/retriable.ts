/**
 * Knative's delivery rule: an answer of 5xx, 404 (a pod not ready yet), 408, 409 or 429 may
 * pass on a retry; any other 4xx refuses the event itself. No answer at all is retriable too.
 * The dispatcher and the HTTP emitter both sort answers by it.
 *
 * ```ts
 * if (!isRetriableStatus(res.status)) await deadLetter(event);
 * ```
 */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}
