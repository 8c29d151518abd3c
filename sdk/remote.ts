import type { Table } from 'apache-arrow';
import type { Hippo, SubmitOptions } from './client.ts';
import type { WaitOptions } from './client.ts';

/**
 * The decorator form of `hippo.remote(pipeline)` (TypeScript 5 standard decorators): the
 * method's body turns its arguments into the pipeline's params and returns them through
 * `runParams`; the decorator submits the run, waits, and returns the result Table instead.
 *
 * @example
 * class Research {
 *   @remoteRun(hippo, 'equity-panel')
 *   panel(start: string, end: string, fields: string[] = []): Promise<Table> {
 *     return runParams({ start, end, fields });
 *   }
 * }
 * const t = await new Research().panel('2010-01-04', '2010-12-31', ['eps']); // a Table
 */
export function remoteRun(client: Hippo | (() => Hippo), pipeline: string, options: SubmitOptions & WaitOptions = {}) {
  return function decorate<This, Args extends unknown[]>(
    method: (this: This, ...args: Args) => Promise<Table>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<Table>>,
  ): (this: This, ...args: Args) => Promise<Table> {
    const name = String(context.name);
    return async function (this: This, ...args: Args): Promise<Table> {
      const params = await (method.call(this, ...args) as unknown as Promise<unknown>);
      if (!(params instanceof RunParams)) {
        throw new TypeError(`@remoteRun('${pipeline}') ${name}: the method must return runParams({...}), got ${typeof params}`);
      }
      const hippo = typeof client === 'function' ? client() : client;
      return hippo.remote(pipeline)(params.params, options);
    };
  };
}

/** What a `@remoteRun` method returns: its params, which the decorator turns into the run's Table. */
export function runParams(params: Record<string, unknown>): Promise<Table> {
  return Promise.resolve(new RunParams(params)) as unknown as Promise<Table>;
}

class RunParams {
  constructor(readonly params: Record<string, unknown>) {}
}
