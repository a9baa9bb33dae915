/**
 * The core modules that bring in client-node, ws and sql.js. They are required on first use, not at
 * activation: loading them takes a few hundred milliseconds that a window with the view closed
 * should not pay. The bundler still includes them; `require` only defers their evaluation.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const engine = {
  kubeconfigs: () => require('../core/kube/kubeconfigSources') as typeof import('../core/kube/kubeconfigSources'),
  contextConfig: () => require('../core/kube/contextConfig') as typeof import('../core/kube/contextConfig'),
  inCluster: () => require('../core/kube/inClusterConfig') as typeof import('../core/kube/inClusterConfig'),
  execPlugins: () => require('../core/kube/execPlugins') as typeof import('../core/kube/execPlugins'),
  kubeconfigText: () => require('../core/kube/kubeconfigText') as typeof import('../core/kube/kubeconfigText'),
  discovery: () => require('../core/discovery/discoverVolumes') as typeof import('../core/discovery/discoverVolumes'),
  backups: () => require('../core/backup/backupRun') as typeof import('../core/backup/backupRun'),
  helpers: () => require('../core/backup/leftoverHelpers') as typeof import('../core/backup/leftoverHelpers'),
  permissions: () => require('../core/access/checkPermissions') as typeof import('../core/access/checkPermissions'),
  history: () => require('../core/history/historyStore') as typeof import('../core/history/historyStore'),
};
