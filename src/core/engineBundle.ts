// The entry of dist/engine.js: everything that brings in client-node, ws and sql.js, in a bundle of
// its own so that the extension's own bundle stays small and activation does not parse it.
export * as kubeconfigs from './kube/kubeconfigSources';
export * as contextConfig from './kube/contextConfig';
export * as inCluster from './kube/inClusterConfig';
export * as execPlugins from './kube/execPlugins';
export * as kubeconfigText from './kube/kubeconfigText';
export * as discovery from './discovery/discoverVolumes';
export * as backups from './backup/backupRun';
export * as helpers from './backup/leftoverHelpers';
export * as permissions from './access/checkPermissions';
export * as history from './history/historyStore';
export * as archiveIndex from './archive/openArchiveIndex';
export * as archiveFiles from './archive/readArchiveFile';
export * as archiveExtract from './archive/extractArchive';
export * as backupExtract from './archive/extractBackup';
export * as consolidation from './incremental/consolidateBackup';
export * as archiveVerify from './archive/verifyArchive';
export * as restores from './restore/restoreRun';
export * as preflight from './preflight/preflightVolumes';
export * as restorePreflight from './preflight/restorePreflight';
export * as preflightReport from './preflight/preflightMarkdown';
export * as restoreTargets from './restore/restoreTarget';
export * as drills from './drill/restoreDrill';
