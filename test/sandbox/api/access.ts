import { FaultRegistry } from '../faults';

export interface UserInfo {
  username: string;
  groups: string[];
}

/** Attributes of one request as the authorizer sees them (like authorizer.Attributes upstream). */
export interface AccessAttributes {
  user: UserInfo;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/** A policy beyond the built-in ones (for example RBAC read from manifests). */
export type AccessPolicy = (attrs: AccessAttributes) => AccessDecision | undefined;

/** Bearer tokens to users, and the decision for each request: injected faults first, then admins, then policies. */
export class AccessControl {
  private readonly tokens = new Map<string, UserInfo>();
  private readonly policies: AccessPolicy[] = [];

  constructor(private readonly faults: FaultRegistry) {}

  addToken(token: string, user: UserInfo): void {
    this.tokens.set(token, user);
  }

  addPolicy(policy: AccessPolicy): () => void {
    this.policies.push(policy);
    return () => this.policies.splice(this.policies.indexOf(policy), 1);
  }

  authenticate(authorization: string | undefined): UserInfo | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    return m ? this.tokens.get(m[1]) : undefined;
  }

  authorize(attrs: AccessAttributes): AccessDecision {
    if (this.faults.isForbidden(attrs.verb, attrs.resource, attrs.subresource, attrs.namespace)) {
      return { allowed: false, reason: 'denied by an injected fault' };
    }
    if (attrs.user.groups.includes('system:masters')) return { allowed: true, reason: 'member of system:masters' };
    for (const policy of this.policies) {
      const decision = policy(attrs);
      if (decision) return decision;
    }
    return { allowed: false, reason: 'no policy allows it' };
  }
}
