import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { archiveCommand } from '../../../src/core/backup/archiveCommand';
import type { ArchiveRef } from '../../../src/core/incremental/incrementalManifest';
import { planIncrement, type IncrementalPlan } from '../../../src/core/incremental/incrementalPlan';
import { endOfArchiveMember, manifestMember } from '../../../src/core/incremental/manifestMember';
import { parsePodListing, type PodListing } from '../../../src/core/incremental/podListing';
import { podListingCommand } from '../../../src/core/incremental/podListingCommand';
import { selectionCommand, selectionInput } from '../../../src/core/incremental/selectionCommand';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runHelperCommand, type Userland } from './localHelper';

export function listLocally(root: string, userland: Userland): PodListing {
  const run = runHelperCommand(podListingCommand(), root, userland);
  assert.equal(run.status, 0, run.stderr);
  return parsePodListing(run.stdout);
}

export interface LocalBackup {
  readonly ref: ArchiveRef;
  readonly path: string;
  readonly listing: PodListing;
  readonly plan?: IncrementalPlan;
}

/** A full backup as the helper makes it (archiveCommand), with the listing taken just before. */
export function fullBackupLocally(root: string, userland: Userland, path: string, id: number): LocalBackup {
  const listing = listLocally(root, userland);
  const run = runHelperCommand(archiveCommand(), root, userland);
  assert.equal(run.status, 0, run.stderr);
  writeFileSync(path, run.stdout);
  return { ref: { id, sha256: sha256Of(path) }, path, listing };
}

/** The next backup of a chain: the listing, the changed entries from the helper, the manifest written first. */
export function incrementalBackupLocally(root: string, userland: Userland, path: string, id: number, chain: readonly LocalBackup[]): LocalBackup {
  const listing = listLocally(root, userland);
  const plan = planIncrement({ chain: chain.map((b) => b.ref), listing: chain[chain.length - 1]!.listing }, listing);
  let body = endOfArchiveMember();
  if (plan.selection.names.length) {
    const run = runHelperCommand(selectionCommand('pod-gzip'), root, userland, selectionInput(plan.selection.names));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /nkvm-trailer sha256=[0-9a-f]{64} tar-exit=0/);
    body = run.stdout;
  }
  writeFileSync(path, Buffer.concat([manifestMember(plan.manifest), body]));
  return { ref: { id, sha256: sha256Of(path) }, path, listing, plan };
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
