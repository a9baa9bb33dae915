/** The file in the helper's scratch emptyDir whose modification time is the lease: the owner touches it over exec. */
export const LEASE_FILE = '/tmp/nkvm-lease';

/**
 * The helper's main process: POSIX sh for BusyBox and GNU userlands alike. It touches the lease file
 * once, then every `$3` seconds compares the file's age with the lease (`$2` seconds) and exits 0 when
 * nobody renewed it, so a helper whose owner died ends Succeeded and releases its volume
 * (modification times have whole seconds, hence `-gt`: never sooner than the lease).
 * `sleep` runs in the background and the shell waits for it, so a TERM (pod deletion) ends it at once
 * instead of after the current sleep. `stat -c %Y` is in both userlands; `date -r` is the fallback.
 */
export const LEASE_SCRIPT = `f=$1 lease=$2 every=$3 pid=
trap 'kill $pid 2>/dev/null; exit 0' TERM INT HUP
touch "$f" || { echo "nkvm helper: cannot write the lease file $f" >&2; exit 1; }
while :; do
  now=$(date +%s)
  renewed=$(stat -c %Y "$f" 2>/dev/null || date -r "$f" +%s 2>/dev/null || echo 0)
  if [ $((now - renewed)) -gt "$lease" ]; then
    echo "nkvm helper: the lease was not renewed for $((now - renewed)) s (lease $lease s); stopping"
    exit 0
  fi
  sleep "$every" &
  pid=$!
  wait $pid
done
`;

/** How often the helper looks at its lease: often enough that it ends soon after the lease runs out. */
export function leaseCheckSeconds(leaseSeconds: number): number {
  return Math.max(1, Math.min(10, Math.floor(leaseSeconds / 6)));
}

/** How often the owner renews: several times per lease, so one slow or failed renewal is not fatal. */
export function leaseRenewSeconds(leaseSeconds: number): number {
  return Math.max(1, Math.min(leaseSeconds / 4, Math.max(5, leaseSeconds / 6)));
}

/** The helper container's command for a lease of `leaseSeconds`, with the lease file at `leaseFile`. */
export function leaseCommand(leaseSeconds: number, leaseFile = LEASE_FILE): string[] {
  return ['sh', '-c', LEASE_SCRIPT, 'nkvm-helper', leaseFile, String(leaseSeconds), String(leaseCheckSeconds(leaseSeconds))];
}
