import { userPrincipal, type AclBinding, type AdminRoute, type Security, type User } from '../../core/index.ts';

/**
 * The users and ACL bindings of the core's security store, for administrators: what each user can log in
 * with (never a secret or a verifier), and every binding as Kafka's DescribeAcls would list it.
 */
export function securityRoutes(security: Security): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/wharf/security',
      access: 'administrator',
      summary: 'the security settings in effect: anonymous access, allow if no ACL, the store, user and binding counts',
      handler: () => ({
        store: security.store.description,
        anonymous_allowed: security.anonymousAllowed,
        allow_everyone_if_no_acl_found: security.authorizer.allowIfNoAcl,
        users: [...security.store.users()].length,
        acls: security.authorizer.aclCount,
      }),
    },
    {
      method: 'GET',
      path: '/api/wharf/security/users',
      access: 'administrator',
      summary: 'users of the security store: the mechanisms each can log in with, super user, RabbitMQ tags (no secrets)',
      handler: () => [...security.store.users()].sort((a, b) => a.name.localeCompare(b.name)).map((user) => userJson(security, user)),
    },
    {
      method: 'GET',
      path: '/api/wharf/security/acls',
      access: 'administrator',
      summary: 'ACL bindings: principal, host, operation, permission on a resource pattern; ?principal= and ?resource_type= filter',
      handler: ({ query }) =>
        [...security.store.acls()]
          .filter((acl) => (query.principal === undefined || acl.principal === query.principal) && (query.resource_type === undefined || acl.resourceType === query.resource_type))
          .map(aclJson),
    },
  ];
}

function userJson(security: Security, user: User): object {
  return {
    name: user.name,
    principal: userPrincipal(user.name),
    scram_mechanisms: Object.keys(user.scram ?? {}).sort(),
    amqp_password: user.passwordHash !== undefined,
    rocketmq_secret_key: user.secretKey !== undefined,
    super_user: security.authorizer.isSuperUser(userPrincipal(user.name)),
    tags: user.tags ?? [],
  };
}

function aclJson(acl: AclBinding): object {
  return {
    principal: acl.principal,
    host: acl.host,
    operation: acl.operation,
    permission: acl.permission,
    resource_type: acl.resourceType,
    resource_name: acl.resourceName,
    pattern_type: acl.patternType,
    scope: acl.scope ?? null,
  };
}
