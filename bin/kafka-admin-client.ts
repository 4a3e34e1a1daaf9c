import net from 'node:net';
import { BrokerError, LengthPrefixedFrames, ScramClient, type ScramMechanism } from '../core/index.ts';
import { ApiKeys, decodeResponse, encodeRequest, type ApiCodec } from '../plugins/kafka/codec/index.ts';

export interface KafkaLogin {
  readonly user: string;
  readonly password: string;
  /** PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (the default). */
  readonly mechanism: string;
  /** Salted passwords by salt and iterations, shared by logins that reuse them (benchmarks). */
  readonly saltedPasswords?: Map<string, Buffer>;
}

/**
 * A minimal Kafka admin connection for the CLI: one socket to a running broker, an optional SASL login
 * (SaslHandshake v1 + SaslAuthenticate v1), then one request at a time with Wharf's own codec.
 */
export class KafkaAdminClient {
  private readonly frames = new LengthPrefixedFrames(64 * 1024 * 1024);
  private readonly received: Buffer[] = [];
  private waiting: { resolve: (frame: Buffer) => void; reject: (err: Error) => void } | undefined;
  private correlationId = 0;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.frames.push(chunk)) {
        if (this.waiting) this.settle().resolve(frame);
        else this.received.push(frame);
      }
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      if (this.waiting) this.settle().reject(this.failure);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new BrokerError('BROKER_STATE', 'the broker closed the connection')));
  }

  /** Connects to `host:port` and logs in when `login` is given. */
  static async connect(address: string, login?: KafkaLogin): Promise<KafkaAdminClient> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) throw new BrokerError('CONFIG_INVALID', `--bootstrap-server needs host:port, not ${address}`);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new KafkaAdminClient(socket);
    try {
      if (login) await client.login(login);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  async request<Req, Res>(api: ApiCodec<Req, Res>, version: number, body: Req): Promise<Res> {
    if (this.failure) throw this.failure;
    for (const part of encodeRequest(api, version, ++this.correlationId, 'wharf-cli', body)) this.socket.write(part);
    const frame = this.received.shift() ?? (await new Promise<Buffer>((resolve, reject) => (this.waiting = { resolve, reject })));
    return decodeResponse(api, version, frame).body;
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(): { resolve: (frame: Buffer) => void; reject: (err: Error) => void } {
    const waiting = this.waiting!;
    this.waiting = undefined;
    return waiting;
  }

  private async login({ user, password, mechanism, saltedPasswords }: KafkaLogin): Promise<void> {
    const handshake = await this.request(ApiKeys.SaslHandshake, 1, { mechanism });
    if (handshake.errorCode !== 0) throw new BrokerError('AUTHENTICATION_FAILED', `the broker does not offer SASL ${mechanism} (it offers ${handshake.mechanisms.join(', ') || 'none'})`);
    const exchange = async (token: Buffer): Promise<Buffer> => {
      const answer = await this.request(ApiKeys.SaslAuthenticate, 1, { authBytes: token });
      if (answer.errorCode !== 0) throw new BrokerError('AUTHENTICATION_FAILED', answer.errorMessage ?? `SASL ${mechanism} authentication failed`);
      return answer.authBytes;
    };
    if (mechanism === 'PLAIN') {
      await exchange(Buffer.from(`\u0000${user}\u0000${password}`, 'utf8'));
      return;
    }
    const scram = new ScramClient(mechanism as ScramMechanism, user, password, saltedPasswords);
    const serverFirst = await exchange(scram.first());
    scram.verify(await exchange(await scram.final(serverFirst)));
  }
}
