import { served } from '../api.js';
import { card, count, h, section, table } from '../dom.js';

export const title = 'Security';

/** The users and ACL bindings of the broker's security store (administrators only: others see the API's refusal). */
export async function render() {
  const [settings, users, acls] = await Promise.all([served('/api/wharf/security', '/api/wharf/security', null), served('/api/wharf/security/users'), served('/api/wharf/security/acls')]);
  const yesNo = (b) => (b ? 'yes' : 'no');
  return h(
    'div',
    { class: 'page security' },
    h('h1', null, 'Security'),
    settings
      ? h(
          'div',
          { class: 'cards' },
          card('Users', count(settings.users), settings.store),
          card('ACL bindings', count(settings.acls), `allow if no ACL: ${yesNo(settings.allow_everyone_if_no_acl_found)}`),
          card('Anonymous', yesNo(settings.anonymous_allowed), 'clients that do not authenticate'),
        )
      : null,
    section(
      'Users',
      table(
        [
          { label: 'Name', cell: (u) => u.name },
          { label: 'SCRAM', cell: (u) => u.scram_mechanisms.join(', ') },
          { label: 'AMQP password', cell: (u) => yesNo(u.amqp_password) },
          { label: 'RocketMQ key', cell: (u) => yesNo(u.rocketmq_secret_key) },
          { label: 'Super user', cell: (u) => yesNo(u.super_user) },
          { label: 'Tags', cell: (u) => u.tags.join(', ') },
        ],
        users,
        { empty: 'No users.', rowClass: () => 'user' },
      ),
    ),
    section(
      'ACL bindings',
      table(
        [
          { label: 'Principal', cell: (a) => a.principal },
          { label: 'Permission', cell: (a) => a.permission },
          { label: 'Operation', cell: (a) => a.operation },
          { label: 'Resource', cell: (a) => `${a.resource_type}${a.scope === null ? '' : ` (${a.scope})`}` },
          { label: 'Name', cell: (a) => a.resource_name },
          { label: 'Pattern', cell: (a) => a.pattern_type },
          { label: 'Host', cell: (a) => a.host },
        ],
        acls,
        { empty: 'No ACL bindings.', rowClass: () => 'acl' },
      ),
    ),
  );
}
