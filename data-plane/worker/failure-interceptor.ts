/**
 * The activity boundary of Nalar errors: every activity a Nalar worker runs (the main worker and the
 * placement worker) passes what it throws through `toApplicationFailure`, so a `NalarError` reaches the
 * workflow as an `ApplicationFailure` typed with its code and retried only when the code says it can succeed.
 */
import type { ActivityInterceptors } from '@temporalio/worker';
import { toApplicationFailure } from '../../common/errors';

/** Activity interceptors (list them first, so they also see errors of the interceptors after them). */
export function failureActivityInterceptors(): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          throw toApplicationFailure(err);
        }
      },
    },
  };
}
