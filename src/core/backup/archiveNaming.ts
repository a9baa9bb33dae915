import { join } from 'node:path';
import type { CompressionMode } from './archiveCommand';

/** A path segment safe on every file system (context names hold ':' and '/', as EKS ARNs do). */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 120) || '_';
}

/** `.tar.gz` whichever side compressed it; `.tar` when nothing did. */
export function archiveExtension(compression: CompressionMode): string {
  return compression === 'none' ? '.tar' : '.tar.gz';
}

/** `<dir>/<context>/<namespace>/<pvc>/<pvc>-<UTC timestamp>.tar.gz`, readable and sortable. */
export function archivePath(backupDir: string, context: string, namespace: string, pvc: string, at: Date, compression: CompressionMode = 'pod-gzip'): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '$1Z');
  return join(backupDir, safeSegment(context), safeSegment(namespace), safeSegment(pvc), `${safeSegment(pvc)}-${stamp}${archiveExtension(compression)}`);
}
