import { apiPath } from '../admin-client.ts';
import { PROTOCOL_OPTION, protocolOf, type AdminCommand } from '../command.ts';
import { fields, table, type Cell } from '../table.ts';

interface KafkaGroupDetail {
  group: string;
  state: string;
  protocol_type: string;
  protocol: string;
  generation: number;
  members: Array<{ member_id: string; client_id: string; client_host: string; assignment: Array<{ topic: string; partitions: number[] }> | null }>;
  offsets: Array<{ topic: string; partition: number; committed_offset: number; high_watermark: number | null; lag: number | null }>;
}

interface RocketGroupDetail {
  group: string;
  source: string | null;
  fifo: boolean;
  retry: { maxAttempts?: number } | null;
  members: Array<{ client_id: string; type: string | null; language: string | null }>;
  lag: number;
  inflight: number;
  topics: Array<{ topic: string; queues: Array<{ queue: number; ack_floor: number; max_offset: number; lag: number; inflight: number }> }>;
}

/** kafka-consumer-groups --describe's rows: every committed or assigned partition, with its consumer; members without partitions last. */
function kafkaRows(g: KafkaGroupDetail): Cell[][] {
  const owner = new Map<string, KafkaGroupDetail['members'][number]>();
  for (const m of g.members) for (const a of m.assignment ?? []) for (const p of a.partitions) owner.set(`${a.topic}\u0000${p}`, m);
  const committed = new Map(g.offsets.map((o) => [`${o.topic}\u0000${o.partition}`, o]));
  const keys = [...new Set([...committed.keys(), ...owner.keys()])].sort((a, b) => {
    const [ta, pa] = a.split('\u0000');
    const [tb, pb] = b.split('\u0000');
    return ta!.localeCompare(tb!) || Number(pa) - Number(pb);
  });
  const rows: Cell[][] = keys.map((key) => {
    const [topic, partition] = key.split('\u0000');
    const o = committed.get(key);
    const m = owner.get(key);
    return [topic, Number(partition), o?.committed_offset ?? null, o?.high_watermark ?? null, o?.lag ?? null, m?.member_id ?? null, m?.client_host ?? null, m?.client_id ?? null];
  });
  const assigned = new Set(owner.values());
  for (const m of g.members) if (!assigned.has(m)) rows.push([null, null, null, null, null, m.member_id, m.client_host, m.client_id]);
  return rows;
}

export const groupsDescribe: AdminCommand = {
  group: 'groups',
  name: 'describe',
  summary: 'one consumer group: committed offsets, lag and consumer of each partition (Kafka) or queue (RocketMQ)',
  args: ['<group>'],
  options: { protocol: PROTOCOL_OPTION },
  async run({ args, options, client }) {
    const [name] = args as [string];
    if (protocolOf(options) === 'kafka') {
      const g = await client.get<KafkaGroupDetail>(apiPath`/api/wharf/kafka/groups/${name}`, `Kafka group ${name}`);
      const header = fields([
        ['Group', g.group],
        ['State', g.state],
        ['Protocol', [g.protocol_type, g.protocol].filter((p) => p).join('/') || null],
        ['Generation', g.generation],
        ['Members', g.members.length],
        ['Lag', g.offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0)],
      ]);
      const rows = kafkaRows(g);
      return { json: g, text: `${header}\n\n${table(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows)}` };
    }
    const g = await client.get<RocketGroupDetail>(apiPath`/api/wharf/rocketmq/groups/${name}`, `RocketMQ group ${name}`);
    const header = fields([
      ['Group', g.group],
      ['Delivery', g.fifo ? 'FIFO' : 'concurrent'],
      ['MaxAttempts', g.retry?.maxAttempts ?? '(default)'],
      ['Settings', g.source ?? 'defaults'],
      ['Members', g.members.map((m) => `${m.client_id}${m.language ? ` (${m.language})` : ''}`).join(', ') || '(none)'],
      ['Lag', g.lag],
      ['Inflight', g.inflight],
    ]);
    const rows = g.topics.flatMap((t) => t.queues.map((q) => [t.topic, q.queue, q.ack_floor, q.max_offset, q.lag, q.inflight]));
    return { json: g, text: `${header}\n\n${table(['TOPIC', 'QUEUE', 'ACK-FLOOR', 'MAX-OFFSET', 'LAG', 'INFLIGHT'], rows)}` };
  },
};
