import type { V1ContainerStatus } from '@kubernetes/client-node';

/** How the helper's scripts say a tool is missing, before they start: `nkvm: the helper image has no gzip`. */
export const MISSING_TOOL_TEXT = 'nkvm: the helper image has no';

/** What the helper runs: a POSIX shell and these tools, as BusyBox or GNU coreutils, tar and gzip provide them. */
export const HELPER_TOOLS = ['sh', 'tar', 'gzip', 'sha256sum', 'find', 'xargs', 'stat', 'mktemp', 'mkfifo', 'tee', 'touch', 'cut', 'grep', 'awk', 'chmod', 'cat', 'rm', 'readlink', 'sed', 'wc'] as const;

export const SUPPORTED_IMAGES_TEXT = 'alpine:3.20 (the default), busybox:stable, debian:12-slim, ubuntu:24.04 or registry.access.redhat.com/ubi9/ubi';

/** The next step when the helper image lacks a tool (or a shell) the helper needs. */
export function imageToolsNextStep(image: string, missing: string): string {
  // UBI minimal and micro ship without tar, the reason `kubectl cp` fails on them too.
  const ubi = /ubi\d*[-/]ubi-(minimal|micro)|ubi\d*-(minimal|micro)/.test(image) ? ` UBI minimal images need tar added (RUN microdnf install -y tar gzip), or use the standard UBI image.` : '';
  return (
    `The helper image "${image}" has no ${missing}. Set nkvm.helperImage (NKVM_HELPER_IMAGE) to an image with ${HELPER_TOOLS.join(', ')}: ` +
    `${SUPPORTED_IMAGES_TEXT}, or a copy of one in a registry the cluster may pull from (README: "Helper images"). Distroless and scratch images have no shell.${ubi}`
  );
}

/**
 * The runtime's words for a container command that does not exist in the image (runc: `exec: "sh": executable file
 * not found in $PATH`, or `no such file or directory` for an absolute path; crun: ``executable file `sh`
 * not found``), read from where the kubelet puts them: a StartError or RunContainerError, now or last time.
 */
export function missingShellIn(status: V1ContainerStatus | undefined): string | undefined {
  const states = [status?.state, status?.lastState];
  for (const state of states) {
    const message = state?.terminated?.message ?? state?.waiting?.message ?? '';
    const reason = state?.terminated?.reason ?? state?.waiting?.reason ?? '';
    if (!/StartError|RunContainerError|CreateContainerError|ContainerCannotRun/.test(reason)) continue;
    const m =
      /exec: "([^"]+)": (?:executable file not found in \$PATH|no such file or directory)/.exec(message) ??
      /executable file `([^`]+)` not found/.exec(message) ??
      /(?:^|[\s:"`])(\/?[\w./-]*\bsh)"?: no such file or directory/i.exec(message);
    if (m) return m[1]!.replace(/^.*\//, '');
  }
  return undefined;
}

/**
 * The command a shell could not find, from the helper's stderr after exit status 127: BusyBox and
 * dash say `sh: tar: not found` (dash adds a line number), bash `bash: line 1: tar: command not found`.
 */
export function missingCommandIn(exitCode: number, stderr: string): string | undefined {
  if (exitCode !== 127) return undefined;
  const own = new RegExp(`^${MISSING_TOOL_TEXT} (\\S+)$`, 'm').exec(stderr);
  const m = own ?? /^(?:[\w/.-]*sh): (?:(?:line )?\d+: )?([^\s:]+): (?:command )?not found$/m.exec(stderr);
  return m?.[1];
}
