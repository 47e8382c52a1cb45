/**
 * Bundles workflow code the way every Nalar worker runs it: the user's workflows (one `workflowsPath`, as
 * Temporal takes it) together with the framework's own workflows (session moves) and the future runtime's
 * workflow interceptors. Users keep their own barrels; the framework registers itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';

/** The workflows every worker registers besides the user's. */
const frameworkWorkflowsPath = require.resolve('../../state/workflow/framework');

/** The workflow interceptors module of the future runtime (bundled with the workflows). */
const workflowInterceptorModules = [require.resolve('../../stubs/workflow/interceptors')];

/** The node_modules folder that holds @temporalio/workflow (the SDK's generated entry module imports it). */
const sdkNodeModules = path.resolve(require.resolve('@temporalio/workflow/package.json'), '..', '..', '..');

const brand = Symbol.for('nalar.workflowBundle');

/** A workflow bundle made by {@link bundleNalarWorkflows}: user and framework workflows, with interceptors. */
export type NalarWorkflowBundle = WorkflowBundleWithSourceMap & { readonly [brand]: true };

export interface BundleOptions {
  /** @default a logger that prints only errors */
  logger?: Logger;
}

const noop = (): void => undefined;
const quietLogger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/**
 * The entry module: the user's exports and the framework's, as one object (Temporal registers every
 * exported function as a workflow type). A user workflow with a framework workflow's name would silently
 * shadow it, so it fails every workflow task of the worker, loudly, with the name to change.
 */
function entryCode(userPath: string): string {
  return `const user = require(${JSON.stringify(userPath)});
const framework = require(${JSON.stringify(frameworkWorkflowsPath)});
const clash = Object.keys(framework).filter((name) => Object.prototype.hasOwnProperty.call(user, name));
if (clash.length) {
  throw new Error('workflow name(s) ' + clash.join(', ') + ' are reserved by Nalar (state/workflow/framework.ts): rename yours');
}
module.exports = Object.assign({}, user, framework);
`;
}

/** Bundles `workflowsPath` (a file or folder of workflows) with the framework's workflows. */
export async function bundleNalarWorkflows(
  workflowsPath: string,
  options: BundleOptions = {},
): Promise<NalarWorkflowBundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nalar-workflows-'));
  try {
    const entry = path.join(dir, 'workflows.js');
    await writeFile(entry, entryCode(path.resolve(workflowsPath)));
    const bundle = await bundleWorkflowCode({
      workflowsPath: entry,
      workflowInterceptorModules,
      logger: options.logger ?? quietLogger,
      // The SDK puts its own entry module next to ours (in the temporary folder), so it must find
      // @temporalio/workflow from there too.
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? ['node_modules']), sdkNodeModules] },
      }),
    });
    return Object.assign(bundle, { [brand]: true as const });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
