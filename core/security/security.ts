import { randomBytes } from 'node:crypto';
import { inject, injectable, optional } from 'inversify';
import type { CoordinationBackend } from '../cluster/coordination.ts';
import type { BrokerConfig } from '../config.ts';
import type { Logger } from '../logging.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { aclMatchesFilter, checkAcl, type AclBinding, type AclFilter } from './acl.ts';
import { Authorizer } from './authorizer.ts';
import { CoordinatedSecurityStore } from './coordinated-security-store.ts';
import { rabbitPasswordMatches, safeEqual, scramPasswordMatches, SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism, type User } from './credentials.ts';
import { MetadataLogSecurityStore } from './metadata-log-security-store.ts';
import { checkPrincipal, isLoopback, type Principal } from './principal.ts';
import { ScramServer } from './scram.ts';
import type { SecurityStore } from './security-store.ts';

/** PBKDF2 runs in the libuv pool, which file syncs share: at most this many at once, so a login storm cannot starve them. */
const PASSWORD_CHECKS_AT_ONCE = 2;
/** A failed login per this many ms is logged on its own; beyond that, failures are counted and summed up. */
const FAILURE_LOG_WINDOW_MS = 10_000;
const FAILURES_LOGGED_PER_WINDOW = 20;
/** Checked for a user that does not exist, so that a PLAIN login takes as long either way. */
const DECOY: ScramCredential = { salt: randomBytes(24), storedKey: randomBytes(64), serverKey: randomBytes(64), iterations: 4096 };

/**
 * The broker's users, ACLs and authorizer, and the rules every protocol shares: whether clients may go
 * unauthenticated, how passwords are checked (off the event loop, a few at a time), how failed logins
 * are slowed and logged. Protocol plugins map their own mechanisms onto it and answer with their own
 * error codes.
 */
@injectable()
export class Security {
  readonly store: SecurityStore;
  readonly authorizer: Authorizer;
  /** Whether a connection that does not authenticate may act as User:ANONYMOUS. */
  readonly anonymousAllowed: boolean;
  readonly failedAuthenticationDelayMs: number;
  /** Iterations of the SCRAM credentials Wharf derives from a password. */
  readonly scramIterations: number;
  private readonly logger: Logger;
  private passwordChecks = 0;
  private readonly waitingChecks: Array<() => void> = [];
  private failureWindowStart = -Infinity;
  private failuresInWindow = 0;

  constructor(
    @inject(TOKENS.Config) config: BrokerConfig,
    @inject(TOKENS.StorageEngine) engine: StorageEngine,
    @inject(TOKENS.Logger) rootLogger: Logger,
    @inject(TOKENS.Coordination) @optional() coordination: CoordinationBackend | undefined,
  ) {
    this.logger = rootLogger.child({ component: 'security' });
    this.store = coordination ? new CoordinatedSecurityStore(coordination, this.logger) : new MetadataLogSecurityStore(engine);
    const settings = config.security;
    this.anonymousAllowed = config.allowAnonymous === 'true' || (config.allowAnonymous === 'auto' && isLoopback(config.host));
    const allowIfNoAcl = settings.allowEveryoneIfNoAclFound === 'auto' ? this.anonymousAllowed : settings.allowEveryoneIfNoAclFound === 'true';
    const superUsers = new Set(settings.superUsers.split(/[;,]/).map((p) => p.trim()).filter((p) => p !== '').map(checkPrincipal));
    this.authorizer = new Authorizer(this.store, { superUsers, allowIfNoAcl });
    this.failedAuthenticationDelayMs = settings.failedAuthenticationDelayMs;
    this.scramIterations = settings.scramIterations;
  }

  async open(): Promise<void> {
    await this.store.open();
    const users = [...this.store.users()].length;
    this.logger.info(
      { users, acls: this.authorizer.aclCount, anonymous: this.anonymousAllowed, allowIfNoAcl: this.authorizer.allowIfNoAcl, store: this.store.description },
      'security ready',
    );
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** The server side of a SCRAM exchange over the stored credentials. */
  scramServer(mechanism: ScramMechanism): ScramServer {
    return new ScramServer(mechanism, (name) => this.store.user(name)?.scram?.[mechanism]);
  }

  /**
   * A PLAIN login (or any protocol's user/password): checked against the user's strongest verifier —
   * SCRAM-SHA-512, then SCRAM-SHA-256 (PBKDF2, in the libuv pool), then a RabbitMQ password hash. An
   * unknown user costs the same PBKDF2, so timing does not tell whether a user exists.
   */
  async verifyPassword(name: string, password: string): Promise<User | undefined> {
    const user = this.store.user(name);
    const mechanism = [...SCRAM_MECHANISMS].reverse().find((m) => user?.scram?.[m] !== undefined);
    if (user && !mechanism && user.passwordHash !== undefined) return rabbitPasswordMatches(user.passwordHash, password) ? user : undefined;
    if (user && !mechanism && user.secretKey !== undefined) return safeEqual(Buffer.from(user.secretKey), Buffer.from(password)) ? user : undefined;
    await this.passwordCheckSlot();
    try {
      const matches = await scramPasswordMatches(mechanism ?? 'SCRAM-SHA-512', mechanism ? user!.scram![mechanism]! : DECOY, password);
      return matches && user ? user : undefined;
    } finally {
      this.passwordChecks--;
      this.waitingChecks.shift()?.();
    }
  }

  /** Logs a failed login: each one while they are few, a count per window while they come in bursts. */
  authenticationFailed(details: { protocol: string; mechanism: string; user?: string; remote?: string; reason: string }): void {
    const now = Date.now();
    if (now - this.failureWindowStart >= FAILURE_LOG_WINDOW_MS) {
      const unlogged = this.failuresInWindow - FAILURES_LOGGED_PER_WINDOW;
      if (unlogged > 0) this.logger.warn({ failures: unlogged }, `${unlogged} more failed authentications were not logged one by one`);
      this.failureWindowStart = now;
      this.failuresInWindow = 0;
    }
    if (++this.failuresInWindow <= FAILURES_LOGGED_PER_WINDOW) this.logger.warn(details, 'authentication failed');
  }

  /** Adds bindings after checking each; resolves once stored. */
  async addAcls(acls: readonly AclBinding[]): Promise<void> {
    for (const acl of acls) checkAcl(acl);
    await this.store.changeAcls(acls, []);
  }

  /** Removes every binding a filter selects; resolves with them once the change is stored. */
  async removeAcls(filters: readonly AclFilter[]): Promise<AclBinding[][]> {
    const all = [...this.store.acls()];
    const removed = filters.map((filter) => all.filter((acl) => aclMatchesFilter(filter, acl)));
    const unique = [...new Set(removed.flat())];
    if (unique.length > 0) await this.store.changeAcls([], unique);
    return removed;
  }

  /** Whether the principal is allowed everything. */
  isSuperUser(principal: Principal): boolean {
    return this.authorizer.isSuperUser(principal);
  }

  private passwordCheckSlot(): Promise<void> {
    if (this.passwordChecks < PASSWORD_CHECKS_AT_ONCE) {
      this.passwordChecks++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waitingChecks.push(() => {
        this.passwordChecks++;
        resolve();
      }),
    );
  }
}
