export { aclId, aclMatchesFilter, aclOf, checkAcl, OPERATIONS, PATTERN_TYPES, patternMatches, WILDCARD, type AclBinding, type AclFilter, type AclOperation, type PatternType, type Permission, type ResourceType } from './acl.ts';
export { AuthorizationCache } from './authorization-cache.ts';
export { Authorizer, type AuthorizerOptions } from './authorizer.ts';
export {
  checkIterations,
  MAX_SCRAM_ITERATIONS,
  MIN_SCRAM_ITERATIONS,
  newScramCredential,
  rabbitPasswordHash,
  rabbitPasswordMatches,
  saltPassword,
  scramCredential,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  type User,
} from './credentials.ts';
export { ANONYMOUS, ANY_PRINCIPAL, checkPrincipal, isLoopback, normalizeHost, userNameOf, userPrincipal, type Principal } from './principal.ts';
export { SaslFailure, ScramClient, ScramServer } from './scram.ts';
export { Security } from './security.ts';
export type { SecurityStore } from './security-store.ts';
