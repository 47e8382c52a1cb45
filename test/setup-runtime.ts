/** Per test file: Temporal's SDK logs at WARN so test output shows failures, not worker state changes. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
