import { hasArchive } from '../core/archive/backupArchive';
import type { VolumeInfo } from '../core/discovery/volumeInventory';
import type { HistoryRecord } from '../core/history/historyRecord';
import type { ClusterContext } from '../services/clusterConnections';

export interface ClusterNode {
  kind: 'cluster';
  context: ClusterContext;
}
export interface NamespaceNode {
  kind: 'namespace';
  parent: ClusterNode;
  namespace: string;
}
export interface PvcNode {
  kind: 'pvc';
  parent: NamespaceNode;
  volume: VolumeInfo;
  lastBackup?: HistoryRecord;
}
export interface BackupNode {
  kind: 'backup';
  parent: PvcNode;
  record: HistoryRecord;
}
/** Claims per page of a namespace: a namespace with thousands of claims opens as fast as a small one. */
export const CLAIMS_PAGE_SIZE = 250;

/** The next page of a namespace with more claims than one page holds. */
export interface MoreNode {
  kind: 'more';
  parent: NamespaceNode;
  /** The server's estimate of the claims not loaded yet, when it gives one. */
  remaining?: number;
}
export interface MessageNode {
  kind: 'message';
  parent?: VolumeTreeNode;
  text: string;
  detail?: string;
  severity: 'info' | 'warning' | 'error';
}

/** One node class per level of clusters > namespaces > PVCs > backups, plus messages for errors and empty states. */
export type VolumeTreeNode = ClusterNode | NamespaceNode | PvcNode | BackupNode | MoreNode | MessageNode;

const accessModeShort: Record<string, string> = { ReadWriteOnce: 'rwo', ReadOnlyMany: 'rox', ReadWriteMany: 'rwx', ReadWriteOncePod: 'rwop' };

/** Context values built from state, matched by the menus' `viewItem =~` regexes. */
export function contextValueOf(node: VolumeTreeNode): string {
  switch (node.kind) {
    case 'cluster':
      return `nkvm.cluster${node.context.current ? '.current' : ''}`;
    case 'namespace':
      return 'nkvm.namespace';
    case 'pvc': {
      const modes = node.volume.accessModes.map((m) => accessModeShort[m] ?? m.toLowerCase()).join('.') || 'unknown';
      return `nkvm.pvc.${node.volume.phase.toLowerCase()}.${modes}`;
    }
    case 'backup':
      // `.incremental` last, so the menus' `.archive` and `.checksum` patterns match both kinds.
      return `nkvm.backup.${node.record.status}${hasArchive(node.record) ? '.archive' : ''}${node.record.checksum ? '.checksum' : ''}${
        node.record.kind === 'incremental' ? '.incremental' : ''
      }`;
    case 'more':
      return 'nkvm.more';
    case 'message':
      return `nkvm.message.${node.severity}`;
  }
}

/** The id of a namespace's node, found without the node. */
export const namespaceNodeId = (context: string, namespace: string): string => `cluster/${context}/ns/${namespace}`;

export function nodeId(node: VolumeTreeNode): string | undefined {
  switch (node.kind) {
    case 'cluster':
      return `cluster/${node.context.name}`;
    case 'namespace':
      return namespaceNodeId(node.parent.context.name, node.namespace);
    case 'pvc':
      return `${nodeId(node.parent)}/pvc/${node.volume.name}`;
    case 'backup':
      return `${nodeId(node.parent)}/backup/${node.record.id}`;
    case 'more':
      return `${nodeId(node.parent)}/more`;
    case 'message':
      return undefined;
  }
}
