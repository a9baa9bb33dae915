import type { V1Pod } from '@kubernetes/client-node';
import { describeOwner, readLease } from './helperOwner';

/**
 * Time a lease may look expired before a helper counts as left behind: covers a renewal delayed by a
 * slow API server and clocks of two machines that disagree by a little (renewed-at is the owner's time).
 */
export const LEASE_MARGIN_SECONDS = 30;

/** Whether nobody can still be using a helper pod, and why. */
export type HelperVerdict = { leftover: true; reason: string } | { leftover: false; reason: string };

/**
 * A helper is left over when it has ended, is past its deadline, or its owner stopped renewing its
 * lease; one whose lease is fresh is someone's work in progress (another window, another machine) and
 * is never offered. A helper without a lease (made by an older version) is left over only past its deadline.
 */
export function classifyHelper(pod: V1Pod, now: number): HelperVerdict {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return { leftover: true, reason: `it has ended (${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})` };
  if (pod.metadata?.deletionTimestamp) return { leftover: false, reason: 'it is already being deleted' };
  const age = ageSeconds(pod, now);
  const deadline = pod.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && age > deadline) return { leftover: true, reason: `it is ${duration(age)} old, past its ${deadline} s deadline` };
  const lease = readLease(pod);
  if (!lease) {
    const until = deadline !== undefined ? ` (${duration(deadline - age)} from now)` : '';
    return { leftover: false, reason: `it carries no lease (made by an older version), so it is kept until its deadline${until}` };
  }
  const since = Math.max(0, Math.round((now - lease.renewedAt) / 1000));
  const owner = describeOwner(lease.owner);
  if (since > lease.leaseSeconds + LEASE_MARGIN_SECONDS) {
    return { leftover: true, reason: `its lease ran out: ${owner} last renewed it ${duration(since)} ago (lease ${duration(lease.leaseSeconds)})` };
  }
  return { leftover: false, reason: `in use by ${owner}: lease renewed ${duration(since)} ago` };
}

export function ageSeconds(pod: V1Pod, now: number): number {
  const created = pod.metadata?.creationTimestamp;
  return Math.max(0, Math.round((now - (created ? new Date(created).getTime() : now)) / 1000));
}

/** `45 s`, `12 min`, `6 h`, `2 d`: as precise as a person reading a list needs. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
