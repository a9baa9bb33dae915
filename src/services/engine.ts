import type * as Engine from '../core/engineBundle';

let loaded: typeof Engine | undefined;

/**
 * The core modules that bring in client-node, ws and sql.js, loaded on first use rather than at
 * activation: a window with the view closed should not pay for them. The extension build ships them
 * as dist/engine.js beside dist/extension.js (see esbuild.mjs); elsewhere this resolves to the sources.
 */
function load(): typeof Engine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('../core/engineBundle') as typeof Engine;
  return loaded;
}

export const engine = {
  kubeconfigs: () => load().kubeconfigs,
  contextConfig: () => load().contextConfig,
  inCluster: () => load().inCluster,
  execPlugins: () => load().execPlugins,
  kubeconfigText: () => load().kubeconfigText,
  discovery: () => load().discovery,
  backups: () => load().backups,
  helpers: () => load().helpers,
  permissions: () => load().permissions,
  history: () => load().history,
  archiveIndex: () => load().archiveIndex,
  archiveFiles: () => load().archiveFiles,
  archiveExtract: () => load().archiveExtract,
  backupExtract: () => load().backupExtract,
  consolidation: () => load().consolidation,
  archiveVerify: () => load().archiveVerify,
  restores: () => load().restores,
  preflight: () => load().preflight,
  restorePreflight: () => load().restorePreflight,
  preflightReport: () => load().preflightReport,
  restoreTargets: () => load().restoreTargets,
  drills: () => load().drills,
};
