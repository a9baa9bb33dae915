import { settingId, SETTING_SPECS } from '../config/nkvmSettings';
import { KubeErrorDescription, KubeErrorKind } from '../kube/describeKubeError';
import { describeRetriedKubeError } from '../kube/retryTransient';

/**
 * Discovery could not produce an inventory. The message names the step, so a user can tell
 * "cannot list pods in shop" from "cannot reach the cluster": `Kubernetes discovery failed while
 * trying to <what>: <cause>`.
 */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  readonly kind: KubeErrorKind;
  readonly status?: number;

  constructor(
    /** The step, e.g. `list persistent volume claims in namespace "shop"`. */
    readonly what: string,
    override readonly cause: unknown,
    description: KubeErrorDescription = describeRetriedKubeError(cause),
  ) {
    super(`Kubernetes discovery failed while trying to ${what}: ${description.message}`);
    this.kind = description.kind;
    this.status = description.status;
  }

  /** The overall deadline passed; says which step was running and which setting gives more time. */
  static timedOut(what: string, timeoutSeconds: number, cause: unknown): DiscoveryError {
    const { envVar } = SETTING_SPECS.discoveryTimeoutSeconds;
    return new DiscoveryError(what, cause, {
      kind: 'timeout',
      message:
        `timed out after ${timeoutSeconds} s; the API server is slow or the cluster is large. ` +
        `Raise ${settingId('discoveryTimeoutSeconds')} (or ${envVar}) or narrow the namespace filter`,
    });
  }
}

