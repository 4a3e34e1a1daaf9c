import type { Metadata } from '@grpc/grpc-js';
import { ANONYMOUS, normalizeHost, userPrincipal, type AclBinding, type Principal, type Security } from '../../../core/index.ts';
import { RocketError, type Status } from '../status.ts';
import { requirementsOf, type Requirement } from './requirements.ts';
import { parseAuthorization, signedWith, unauthorized } from './signature.ts';

/** Entries a cache keeps before it starts over (a client naming ever new topics or dates must not grow it without bound). */
const MAX_CACHED = 10_000;

/**
 * Who may call what on the gRPC service (RocketMQ ACL 2.0 over the core's users and ACLs). Every call
 * carries its credentials and is judged on its own, as by the proxy's default stateless strategy: a signed call acts as
 * `User:<accessKey>` once its signature checks out against the user's secret key; an unsigned one as
 * User:ANONYMOUS where anonymous access is allowed. Then each requirement of the call must be allowed.
 * Refusals are UNAUTHORIZED (40100) with the proxy's messages, as its ResponseBuilder answers both
 * AuthenticationException and AuthorizationException; failed authentications are logged and answered
 * only after the failed-authentication delay. Verified headers and decisions are remembered until any
 * user or ACL changes: a client repeats its header for every call within a second, and an HMAC costs
 * more than the rest of the check.
 */
export class RocketAccess {
  /** `x-mq-date-time` and `authorization` values already verified, and who they proved. */
  private readonly verified = new Map<string, Principal>();
  /** Per client address and principal: per resource type, action and name, whether it is allowed. */
  private readonly decisions = new Map<string, Map<string, boolean>>();
  private generation = -1;

  constructor(private readonly security: Security) {}

  /** Undefined when the call may go ahead, else its refusal (resolving once it may be sent). */
  check(rpc: string, metadata: Metadata, peer: string, request: object): Promise<Status> | undefined {
    const authorization = lastString(metadata, 'authorization');
    const authorizer = this.security.authorizer;
    if (!authorization && this.security.anonymousAllowed && authorizer.allowsEverything) return undefined;
    if (authorizer.generation !== this.generation) {
      this.verified.clear();
      this.decisions.clear();
      this.generation = authorizer.generation;
    }
    const host = hostOf(peer);
    let principal: Principal;
    try {
      principal = this.authenticate(authorization, metadata);
    } catch (err) {
      return this.failed(err as Error, authorization, host);
    }
    const requirements = requirementsOf(rpc, request);
    if (requirements.length === 0 || authorizer.allowsEverything) return undefined;
    const decided = this.decisionsOf(host, principal);
    for (const requirement of requirements) {
      if (!this.allows(principal, host, requirement, decided)) {
        const resource = `${requirement.resourceType === 'topic' ? 'Topic' : 'Group'}:${requirement.name}`;
        const why = this.decisive(principal, host, requirement) ? 'the decision is deny.' : 'no matched policies.';
        return Promise.resolve(unauthorized(`${principal} has no permission to access ${resource} from ${host}, ${why}`).status);
      }
    }
    return undefined;
  }

  /** The principal a call acts as, or throws UNAUTHORIZED (DefaultAuthenticationHandler). */
  private authenticate(authorization: string | undefined, metadata: Metadata): Principal {
    if (!authorization) {
      if (this.security.anonymousAllowed) return ANONYMOUS;
      throw unauthorized('username cannot be null.');
    }
    const dateTime = lastString(metadata, 'x-mq-date-time');
    const key = `${dateTime}\n${authorization}`;
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const signed = parseAuthorization(authorization, dateTime);
    if (signed.accessKey === '') throw unauthorized('username cannot be null.');
    const user = this.security.store.user(signed.accessKey);
    if (!user) throw unauthorized(`User:${signed.accessKey} is not found.`);
    if (user.secretKey === undefined || !signedWith(signed, user.secretKey)) throw unauthorized('check signature failed.');
    const principal = userPrincipal(user.name);
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    this.verified.set(key, principal);
    return principal;
  }

  /**
   * RocketMQ's AclAuthorizationHandler over the core's bindings: of the bindings for the principal (or
   * User:*), host and any of the operations, the most specific decides — a literal name before a
   * prefix, a longer prefix before a shorter, any name (`*`) last; DENY before ALLOW among equals.
   * Super users may do anything. With no such binding the core's rule applies: refused if some binding
   * names the resource, else allowed only where "no ACL means allowed" holds.
   */
  private decisionsOf(host: string, principal: Principal): Map<string, boolean> {
    const key = `${host}\n${principal}`;
    let decided = this.decisions.get(key);
    if (decided === undefined) {
      if (this.decisions.size >= MAX_CACHED) this.decisions.clear();
      this.decisions.set(key, (decided = new Map()));
    }
    return decided;
  }

  private allows(principal: Principal, host: string, requirement: Requirement, decided: Map<string, boolean>): boolean {
    const key = `${requirement.resourceType}\n${requirement.action.name}\n${requirement.name}`;
    let allowed = decided.get(key);
    if (allowed === undefined) {
      allowed = this.decide(principal, host, requirement);
      if (decided.size >= MAX_CACHED) decided.clear();
      decided.set(key, allowed);
    }
    return allowed;
  }

  private decide(principal: Principal, host: string, requirement: Requirement): boolean {
    const authorizer = this.security.authorizer;
    if (authorizer.isSuperUser(principal)) return true;
    const decisive = this.decisive(principal, host, requirement);
    if (decisive) return decisive.permission === 'allow';
    return authorizer.authorize(principal, host, requirement.action.operations[0]!, requirement.resourceType, requirement.name);
  }

  private decisive(principal: Principal, host: string, { resourceType, name, action }: Requirement): AclBinding | undefined {
    let best: AclBinding | undefined;
    for (const operation of action.operations) {
      for (const acl of this.security.authorizer.matching(principal, host, operation, resourceType, name)) {
        if (!best || precedes(acl, best)) best = acl;
      }
    }
    return best;
  }

  private failed(err: Error, authorization: string | undefined, host: string): Promise<Status> {
    const status = (err instanceof RocketError ? err : unauthorized('Authentication failed. Please verify the credentials and try again.')).status;
    this.security.authenticationFailed({
      protocol: 'rocketmq',
      mechanism: 'MQv2-HMAC-SHA1',
      user: authorization ? accessKeyOf(authorization) : undefined,
      remote: host,
      reason: status.message,
    });
    const delay = this.security.failedAuthenticationDelayMs;
    return new Promise((resolve) => setTimeout(() => resolve(status), delay));
  }
}

/** RocketMQ's order of matching policy entries: the first decides. */
function precedes(a: AclBinding, b: AclBinding): boolean {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb;
  if (a.patternType === 'prefixed' && a.resourceName.length !== b.resourceName.length) return a.resourceName.length > b.resourceName.length;
  return a.permission === 'deny' && b.permission === 'allow';
}

function rank(acl: AclBinding): number {
  if (acl.patternType === 'literal') return acl.resourceName === '*' ? 3 : 0;
  return acl.patternType === 'prefixed' ? 1 : 2;
}

function lastString(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  const value = values[values.length - 1];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The address of a grpc-js peer (`127.0.0.1:5000`, `::1:5000`), as ACL hosts name it. */
function hostOf(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return normalizeHost(colon > 0 && /^\d+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer);
}

/** For the log: the access key a header names, if it can be read. */
function accessKeyOf(authorization: string): string | undefined {
  return /Credential=([^,/]*)/.exec(authorization)?.[1]?.slice(0, 256);
}
