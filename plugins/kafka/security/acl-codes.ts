import type { AclBinding, AclFilter, AclOperation, PatternType, Permission, ResourceType } from '../../../core/index.ts';

/** Kafka's enum codes (clients/.../common/{resource,acl}/*.java) and the core names they stand for. */
export const KAFKA_RESOURCE_TYPES: ReadonlyMap<number, ResourceType> = new Map([
  [2, 'topic'],
  [3, 'group'],
  [4, 'cluster'],
  [5, 'transactional-id'],
  [6, 'delegation-token'],
  [7, 'user'],
]);
export const KAFKA_PATTERN_TYPES: ReadonlyMap<number, PatternType> = new Map([
  [3, 'literal'],
  [4, 'prefixed'],
]);
export const KAFKA_OPERATIONS: ReadonlyMap<number, AclOperation> = new Map([
  [2, 'all'],
  [3, 'read'],
  [4, 'write'],
  [5, 'create'],
  [6, 'delete'],
  [7, 'alter'],
  [8, 'describe'],
  [9, 'cluster-action'],
  [10, 'describe-configs'],
  [11, 'alter-configs'],
  [12, 'idempotent-write'],
  [13, 'create-tokens'],
  [14, 'describe-tokens'],
]);
export const KAFKA_PERMISSIONS: ReadonlyMap<number, Permission> = new Map([
  [2, 'deny'],
  [3, 'allow'],
]);
/** The ANY of every filter enum; MATCH (2) of pattern type filters. */
export const ANY = 1;
export const MATCH = 2;
/** The one name of the cluster resource. */
export const CLUSTER_NAME = 'kafka-cluster';

const codeOf = <T>(map: ReadonlyMap<number, T>, value: T): number | undefined => {
  for (const [code, v] of map) if (v === value) return code;
  return undefined;
};

export interface KafkaAclCodes {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A binding as Kafka's ACL APIs show it, or undefined for one Kafka cannot express (another protocol's). */
export function kafkaCodes(acl: AclBinding): KafkaAclCodes | undefined {
  if (acl.scope) return undefined;
  const resourceType = codeOf(KAFKA_RESOURCE_TYPES, acl.resourceType);
  const patternType = codeOf(KAFKA_PATTERN_TYPES, acl.patternType);
  const operation = codeOf(KAFKA_OPERATIONS, acl.operation);
  if (resourceType === undefined || patternType === undefined || operation === undefined) return undefined;
  return { resourceType, resourceName: acl.resourceName, patternType, principal: acl.principal, host: acl.host, operation, permissionType: codeOf(KAFKA_PERMISSIONS, acl.permission)! };
}

/** Operations Kafka reports per resource type in authorized-operations bit fields (AclEntry.supportedOperations). */
export const SUPPORTED_OPERATIONS: Readonly<Record<string, readonly AclOperation[]>> = {
  topic: ['read', 'write', 'create', 'describe', 'delete', 'alter', 'describe-configs', 'alter-configs'],
  group: ['read', 'describe', 'delete', 'describe-configs', 'alter-configs'],
  cluster: ['create', 'cluster-action', 'describe-configs', 'alter-configs', 'idempotent-write', 'alter', 'describe'],
  'transactional-id': ['describe', 'write'],
};

/** Utils.to32BitField of the allowed operations' codes. */
export function authorizedOperations(resourceType: string, allowed: (operation: AclOperation) => boolean): number {
  let field = 0;
  for (const operation of SUPPORTED_OPERATIONS[resourceType] ?? []) if (allowed(operation)) field |= 1 << codeOf(KAFKA_OPERATIONS, operation)!;
  return field;
}

/** The fields of a Kafka ACL filter (DescribeAcls, DeleteAcls). */
export interface KafkaAclFilterCodes {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}

/** A Kafka filter as a core filter, or the INVALID_REQUEST text for one with UNKNOWN (or unheard-of) codes. */
export function aclFilterOf(f: KafkaAclFilterCodes): AclFilter | string {
  const resourceType = f.resourceTypeFilter === ANY ? undefined : KAFKA_RESOURCE_TYPES.get(f.resourceTypeFilter);
  const patternType = f.patternTypeFilter === ANY ? undefined : f.patternTypeFilter === MATCH ? 'match' : KAFKA_PATTERN_TYPES.get(f.patternTypeFilter);
  if ((f.resourceTypeFilter !== ANY && resourceType === undefined) || (f.patternTypeFilter !== ANY && patternType === undefined)) return 'Unknown patternFilter.';
  const operation = f.operation === ANY ? undefined : KAFKA_OPERATIONS.get(f.operation);
  const permission = f.permissionType === ANY ? undefined : KAFKA_PERMISSIONS.get(f.permissionType);
  if ((f.operation !== ANY && operation === undefined) || (f.permissionType !== ANY && permission === undefined)) return 'Unknown entryFilter.';
  return {
    ...(resourceType !== undefined ? { resourceType } : {}),
    ...(f.resourceNameFilter !== null ? { resourceName: f.resourceNameFilter } : {}),
    ...(patternType !== undefined ? { patternType } : {}),
    ...(f.principalFilter !== null ? { principal: f.principalFilter } : {}),
    ...(f.hostFilter !== null ? { host: f.hostFilter } : {}),
    ...(operation !== undefined ? { operation } : {}),
    ...(permission !== undefined ? { permission } : {}),
  };
}

/** A Kafka ACL creation as a binding, or the INVALID_REQUEST text Kafka answers (AclApis, AclControlManager.validateNewAcl). */
export function aclBindingOf(c: KafkaAclCodes): AclBinding | string {
  const resourceType = KAFKA_RESOURCE_TYPES.get(c.resourceType);
  if (resourceType === undefined) return `Invalid resourceType ${c.resourceType}`;
  const patternType = KAFKA_PATTERN_TYPES.get(c.patternType);
  if (patternType === undefined) return `Invalid patternType ${c.patternType}`;
  const operation = KAFKA_OPERATIONS.get(c.operation);
  if (operation === undefined) return `Invalid operation ${c.operation}`;
  const permission = KAFKA_PERMISSIONS.get(c.permissionType);
  if (permission === undefined) return `Invalid permissionType ${c.permissionType}`;
  if (resourceType === 'cluster' && c.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (c.resourceName === '') return 'Invalid empty resource name';
  return { resourceType, resourceName: c.resourceName, patternType, principal: c.principal, host: c.host, operation, permission };
}
