import { BlockList, isIP } from 'node:net';
import { compiled, WILDCARD, type AclBinding, type AclFilter, type AclOperation, type ResourceType, aclMatchesFilter } from './acl.ts';
import { ANY_PRINCIPAL, userNameOf, type Principal } from './principal.ts';
import type { SecurityStore } from './security-store.ts';

export interface AuthorizerOptions {
  /** Principals allowed everything (Kafka's `super.users`); users flagged superUser in the store are too. */
  readonly superUsers: ReadonlySet<Principal>;
  /** The answer for a resource no ACL names at all (Kafka's `allow.everyone.if.no.acl.found`). */
  readonly allowIfNoAcl: boolean;
}

/** ALLOW of any of these implies DESCRIBE; of these two, DESCRIBE_CONFIGS (Kafka's rule; never for DENY). */
const IMPLIES_DESCRIBE: ReadonlySet<AclOperation> = new Set(['describe', 'read', 'write', 'delete', 'alter']);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<AclOperation> = new Set(['describe-configs', 'alter-configs']);

interface Indexed {
  readonly acl: AclBinding;
  /** A CIDR host (RocketMQ's source IPs), compiled. */
  readonly block?: BlockList;
}

interface TypeIndex {
  readonly literal: Map<string, Indexed[]>;
  readonly patterns: Indexed[];
}

/**
 * Decides whether a principal, from a host, may do an operation on a resource, by Kafka's rules
 * (StandardAuthorizer): super users may do anything; otherwise any matching DENY refuses, else any
 * matching ALLOW permits; a resource no binding names gets the `allowIfNoAcl` answer, one that some
 * binding names but none matches is refused. Bindings match by resource pattern (literal, `*`, prefix,
 * regex), principal (itself or `User:*`), host (`*`, itself, a CIDR block) and operation (itself, ALL,
 * or for ALLOW the operations that imply it). `generation` changes whenever the answer to any question
 * may have changed, for callers that cache answers.
 */
export class Authorizer {
  private index = new Map<string, TypeIndex>();
  private count = 0;
  private generationValue = 0;
  private superUserNames = new Set<string>();

  constructor(
    private readonly store: SecurityStore,
    private readonly options: AuthorizerOptions,
  ) {
    store.onChange(() => this.rebuild());
    this.rebuild();
  }

  get generation(): number {
    return this.generationValue;
  }

  get aclCount(): number {
    return this.count;
  }

  /** True when every question has the answer yes for everyone: no ACLs, and no ACL means allowed. */
  get allowsEverything(): boolean {
    return this.count === 0 && this.options.allowIfNoAcl;
  }

  get allowIfNoAcl(): boolean {
    return this.options.allowIfNoAcl;
  }

  isSuperUser(principal: Principal): boolean {
    if (this.options.superUsers.has(principal)) return true;
    const name = userNameOf(principal);
    return name !== undefined && this.superUserNames.has(name);
  }

  authorize(principal: Principal, host: string, operation: AclOperation, resourceType: ResourceType, resourceName: string, scope = ''): boolean {
    if (this.isSuperUser(principal)) return true;
    const index = this.index.get(resourceType);
    if (!index) return this.options.allowIfNoAcl;
    let named = false;
    let allowed = false;
    const visit = (entry: Indexed): boolean => {
      if ((entry.acl.scope ?? '') !== scope) return false;
      named = true;
      const result = decide(entry, principal, host, operation);
      if (result === 'deny') return true;
      if (result === 'allow') allowed = true;
      return false;
    };
    for (const entry of index.literal.get(resourceName) ?? NONE) if (visit(entry)) return false;
    if (resourceName !== WILDCARD) for (const entry of index.literal.get(WILDCARD) ?? NONE) if (visit(entry)) return false;
    for (const entry of index.patterns) {
      const acl = entry.acl;
      const covers = acl.patternType === 'prefixed' ? resourceName.startsWith(acl.resourceName) : compiled(acl.resourceName).test(resourceName);
      if (covers && visit(entry)) return false;
    }
    if (allowed) return true;
    return named ? false : this.options.allowIfNoAcl;
  }

  /**
   * Kafka's authorizeByResourceType: whether the principal may do the operation on at least one resource
   * of the type (an ALLOW, on some pattern, that no DENY on the same or a broader pattern cancels).
   */
  authorizeByResourceType(principal: Principal, host: string, operation: AclOperation, resourceType: ResourceType): boolean {
    if (this.authorize(principal, host, operation, resourceType, 'hardcode')) return true;
    const index = this.index.get(resourceType);
    if (!index) return false;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allows: AclBinding[] = [];
    for (const entry of [...[...index.literal.values()].flat(), ...index.patterns]) {
      const acl = entry.acl;
      if (acl.scope || acl.patternType === 'regex') continue;
      if (!hostMatches(entry, host)) continue;
      if (acl.principal !== principal && acl.principal !== ANY_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== 'all') continue;
      if (acl.permission === 'deny') {
        if (acl.patternType === 'literal' && acl.resourceName === WILDCARD) return false;
        (acl.patternType === 'literal' ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else allows.push(acl);
    }
    if (allows.some((acl) => acl.patternType === 'literal' && acl.resourceName === WILDCARD)) return true;
    return allows.some((acl) => {
      if (acl.patternType === 'literal' && denyLiteral.has(acl.resourceName)) return false;
      for (let i = 1; i <= acl.resourceName.length; i++) if (denyPrefixed.has(acl.resourceName.slice(0, i))) return false;
      return true;
    });
  }

  /**
   * Every binding that applies to the request, whatever its permission: for protocols that decide by
   * their own precedence (RocketMQ ACL 2.0 takes the most specific pattern's decision).
   */
  matching(principal: Principal, host: string, operation: AclOperation, resourceType: ResourceType, resourceName: string, scope = ''): AclBinding[] {
    const index = this.index.get(resourceType);
    if (!index) return [];
    const candidates = [...(index.literal.get(resourceName) ?? NONE), ...(resourceName === WILDCARD ? NONE : (index.literal.get(WILDCARD) ?? NONE)), ...index.patterns];
    return candidates
      .filter((entry) => (entry.acl.scope ?? '') === scope && (entry.acl.patternType === 'literal' || (entry.acl.patternType === 'prefixed' ? resourceName.startsWith(entry.acl.resourceName) : compiled(entry.acl.resourceName).test(resourceName))))
      .filter((entry) => decide(entry, principal, host, operation) !== undefined)
      .map((entry) => entry.acl);
  }

  /** The stored bindings a filter selects. */
  acls(filter: AclFilter = {}): AclBinding[] {
    return [...this.store.acls()].filter((acl) => aclMatchesFilter(filter, acl));
  }

  private rebuild(): void {
    const index = new Map<string, TypeIndex>();
    let count = 0;
    for (const acl of this.store.acls()) {
      let byType = index.get(acl.resourceType);
      if (!byType) index.set(acl.resourceType, (byType = { literal: new Map(), patterns: [] }));
      const entry: Indexed = acl.host.includes('/') ? { acl, block: cidrBlock(acl.host) } : { acl };
      if (acl.patternType === 'literal') {
        const list = byType.literal.get(acl.resourceName);
        if (list) list.push(entry);
        else byType.literal.set(acl.resourceName, [entry]);
      } else byType.patterns.push(entry);
      count++;
    }
    const superUserNames = new Set<string>();
    for (const user of this.store.users()) if (user.superUser) superUserNames.add(user.name);
    this.index = index;
    this.count = count;
    this.superUserNames = superUserNames;
    this.generationValue++;
  }
}

const NONE: readonly Indexed[] = [];

/** Kafka's StandardAuthorizerData.findResult for one binding whose pattern covers the resource. */
function decide(entry: Indexed, principal: Principal, host: string, operation: AclOperation): 'allow' | 'deny' | undefined {
  const acl = entry.acl;
  if (acl.principal !== principal && acl.principal !== ANY_PRINCIPAL) return undefined;
  if (!hostMatches(entry, host)) return undefined;
  if (acl.operation !== 'all') {
    if (acl.permission === 'allow') {
      if (operation === 'describe') {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
      } else if (operation === 'describe-configs') {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
      } else if (operation !== acl.operation) return undefined;
    } else if (operation !== acl.operation) return undefined;
  }
  return acl.permission;
}

function hostMatches(entry: Indexed, host: string): boolean {
  const acl = entry.acl;
  if (acl.host === WILDCARD || acl.host === host) return true;
  const family = entry.block ? isIP(host) : 0;
  return family !== 0 && entry.block!.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

function cidrBlock(host: string): BlockList | undefined {
  const [address, bits] = host.split('/');
  const family = isIP(address ?? '');
  const prefix = Number(bits);
  if (family === 0 || !Number.isInteger(prefix)) return undefined;
  const block = new BlockList();
  try {
    block.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return undefined;
  }
  return block;
}
