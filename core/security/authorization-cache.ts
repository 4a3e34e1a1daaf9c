import { OPERATIONS, type AclOperation, type ResourceType } from './acl.ts';
import type { Authorizer } from './authorizer.ts';
import { normalizeHost, type Principal } from './principal.ts';

const BIT: Readonly<Record<AclOperation, number>> = Object.fromEntries(OPERATIONS.map((op, i) => [op, 1 << i])) as Record<AclOperation, number>;
/** Answers above which a cache starts over (a client naming ever new topics must not grow it without bound). */
const MAX_ENTRIES = 10_000;

/**
 * One connection's authorization answers: per resource type and name, which operations were decided
 * and how, as two bit sets in one number. A request on the hot path costs two map lookups and no
 * allocation; any ACL or super-user change (the authorizer's generation) clears it. With no ACLs at all
 * and "no ACL means allowed", nothing is looked up or stored.
 */
export class AuthorizationCache {
  private generation = -1;
  private superUser = false;
  private entries = 0;
  private readonly byType = new Map<ResourceType, Map<string, number>>();
  readonly host: string;

  constructor(
    private readonly authorizer: Authorizer,
    readonly principal: Principal,
    remoteAddress: string | undefined,
  ) {
    this.host = normalizeHost(remoteAddress);
  }

  allows(operation: AclOperation, resourceType: ResourceType, resourceName: string): boolean {
    const authorizer = this.authorizer;
    if (authorizer.allowsEverything) return true;
    if (authorizer.generation !== this.generation) this.reset();
    if (this.superUser) return true;
    let names = this.byType.get(resourceType);
    if (names === undefined) this.byType.set(resourceType, (names = new Map()));
    const bit = BIT[operation];
    const known = names.get(resourceName) ?? 0;
    if ((known & bit) !== 0) return (known & (bit << 16)) !== 0;
    const allowed = authorizer.authorize(this.principal, this.host, operation, resourceType, resourceName);
    if (known === 0 && ++this.entries > MAX_ENTRIES) this.reset();
    names.set(resourceName, known | bit | (allowed ? bit << 16 : 0));
    return allowed;
  }

  private reset(): void {
    this.generation = this.authorizer.generation;
    this.superUser = this.authorizer.isSuperUser(this.principal);
    this.byType.clear();
    this.entries = 0;
  }
}
