import { join } from 'node:path';

/** A path segment safe on every file system (context names hold ':' and '/', as EKS ARNs do). */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 120) || '_';
}

/** `<dir>/<context>/<namespace>/<pvc>/<pvc>-<UTC timestamp>.tar.gz`, readable and sortable. */
export function archivePath(backupDir: string, context: string, namespace: string, pvc: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '$1Z');
  return join(backupDir, safeSegment(context), safeSegment(namespace), safeSegment(pvc), `${safeSegment(pvc)}-${stamp}.tar.gz`);
}
