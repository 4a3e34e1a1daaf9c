import type { Socket } from 'node:net';
import { BrokerError, isTls, verifiedClientCertificate, type ClientDescription, type Connection, type Logger } from '../../core/index.ts';
import { AmqpError, amqpError, ReplyCode } from './amqp-error.ts';
import type { AmqpContext } from './amqp-context.ts';
import { SERVER_VERSION } from './amqp-context.ts';
import { parseCredentials, type AmqpAccess, type AmqpUser, type Credentials } from './auth.ts';
import { certificateUserName } from './certificate-login.ts';
import { AmqpChannel } from './channel.ts';
import {
  field,
  FrameParser,
  FrameType,
  HEARTBEAT_FRAME,
  isProtocolHeader,
  methodFrame,
  parseMethod,
  PROTOCOL_HEADER,
  type AmqpMethod,
  type FieldTable,
  type MethodArgs,
  type MethodName,
} from './codec/index.ts';
import type { Vhost } from './model/vhost.ts';
import { Outbound } from './outbound.ts';

/** `draining`: the client sent connection.close; its channels finish the methods they received, then close-ok. */
type State = 'header' | 'start' | 'authenticating' | 'tune' | 'open' | 'running' | 'draining' | 'closing' | 'closed';

/** As RabbitMQ 3.10 offers them: with rabbitmq_auth_mechanism_ssl, EXTERNAL is offered on TLS connections only. */
const PLAINTEXT_MECHANISMS = ['AMQPLAIN', 'PLAIN'];
const TLS_MECHANISMS = ['PLAIN', 'AMQPLAIN', 'EXTERNAL'];
/** RabbitMQ's SILENT_CLOSE_DELAY: a client that breaks the handshake waits this long before the socket closes. */
const SILENT_CLOSE_DELAY_MS = 3000;

const CAPABILITIES = ['publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify', 'connection.blocked', 'consumer_priorities', 'authentication_failure_close', 'per_consumer_qos', 'direct_reply_to'];

/**
 * One AMQP connection: the handshake (start, tune, open), heartbeats both ways, channel 0 methods,
 * channels, and the error rule: channel errors close the channel, hard errors the connection.
 */
export class AmqpConnection implements Connection {
  private state: State = 'header';
  private readonly parser: FrameParser;
  private header = Buffer.alloc(0);
  private readonly channels = new Map<number, AmqpChannel>();
  private clientCapabilities = new Map<string, boolean>();
  frameMax: number;
  private channelMax: number;
  private heartbeatSeconds = 0;
  private lastReceived: number;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  user = '';
  /** What the user may do; set at login. */
  access!: AmqpAccess;
  vhost: Vhost | undefined;
  /** What the client said about itself in connection.start-ok, and how it logged in. */
  clientProperties: FieldTable = new Map();
  authMechanism = '';
  readonly connectedAt = Date.now();
  /** Frames bound for the client, written once per turn of the event loop. */
  readonly outbound: Outbound;
  private blockedSent = false;
  published = false;
  private tornDown = false;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    private readonly context: AmqpContext,
    readonly logger: Logger,
    private readonly onClosed: (connection: AmqpConnection) => void,
  ) {
    this.parser = new FrameParser(context.settings.frameMax, this.onFrame);
    this.frameMax = context.settings.frameMax;
    this.channelMax = context.settings.channelMax;
    this.lastReceived = Date.now();
    this.outbound = new Outbound(socket);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      for (const channel of this.channels.values()) channel.resume();
    });
    socket.once('close', () => this.teardown());
    this.handshakeTimer = setTimeout(() => {
      if (this.state !== 'running') this.destroy('handshake timed out');
    }, context.settings.handshakeTimeoutMs);
  }

  /** `running` once open; `closing` while closing; `starting`/`tuning`/`opening` during the handshake (RabbitMQ's words). */
  get stateName(): string {
    switch (this.state) {
      case 'running':
        return 'running';
      case 'draining':
      case 'closing':
      case 'closed':
        return 'closing';
      case 'tune':
        return 'tuning';
      case 'open':
        return 'opening';
      default:
        return 'starting';
    }
  }

  get heartbeat(): number {
    return this.heartbeatSeconds;
  }

  get channelLimit(): number {
    return this.channelMax;
  }

  /** The open channels, by number. */
  get openChannels(): ReadonlyMap<number, AmqpChannel> {
    return this.channels;
  }

  get settings(): AmqpContext['settings'] {
    return this.context.settings;
  }

  get users(): AmqpContext['users'] {
    return this.context.users;
  }

  latencyOf(method: string): ReturnType<AmqpContext['latencyOf']> {
    return this.context.latencyOf(method);
  }

  capability(name: string): boolean {
    return this.clientCapabilities.get(name) === true;
  }

  /** The socket cannot take more right now: consumers pause until it drains. */
  get congested(): boolean {
    return this.outbound.congested;
  }

  send(bytes: Buffer | readonly Buffer[]): void {
    if (this.state === 'closed') return;
    if (Buffer.isBuffer(bytes)) this.outbound.add(bytes);
    else for (const b of bytes) this.outbound.add(b);
  }

  sendMethod<K extends MethodName>(channel: number, name: K, args: MethodArgs[K]): void {
    this.send(methodFrame(channel, name, args));
  }

  /** Server-initiated connection.close; the socket closes on close-ok (or shortly after, regardless). */
  closeWith(error: AmqpError): void {
    if (this.state === 'draining' || this.state === 'closing' || this.state === 'closed') return;
    this.logger.debug({ code: error.code, reason: error.replyText }, 'closing the connection');
    this.sendMethod(0, 'connection.close', { replyCode: error.code, replyText: error.replyText, classId: error.classId, methodId: error.methodId });
    this.state = 'closing';
    this.closeChannels();
    setTimeout(() => this.destroy('close-ok not received'), 1000).unref();
  }

  /** Flow control on the memory and disk alarms: tell clients that asked for it; stop reading from publishers. */
  setBlocked(blocked: boolean): void {
    if (this.state !== 'running') return;
    if (blocked && !this.blockedSent) {
      if (this.capability('connection.blocked')) this.sendMethod(0, 'connection.blocked', { reason: this.context.blockedReason });
      this.blockedSent = true;
      if (this.published) this.socket.pause();
    } else if (!blocked && this.blockedSent) {
      if (this.capability('connection.blocked')) this.sendMethod(0, 'connection.unblocked', {});
      this.blockedSent = false;
      this.socket.resume();
    }
  }

  /** A publish arrived: a connection that publishes while publishers are blocked is not read any more (as RabbitMQ). */
  publishing(): void {
    this.published = true;
    if (this.blockedSent && !this.socket.isPaused()) this.socket.pause();
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  describe(): ClientDescription {
    const text = (key: string) => {
      const field = this.clientProperties.get(key);
      return field?.type === 'S' || field?.type === 'x' ? field.value.toString() : undefined;
    };
    const product = text('product');
    return {
      user: this.user === '' ? undefined : this.user,
      clientId: text('connection_name'),
      clientSoftware: product === undefined ? undefined : { name: product, version: text('version') ?? '' },
      details: { vhost: this.vhost?.name ?? null, channels: this.openChannels.size },
    };
  }

  close(): void {
    if (this.state === 'running') this.closeWith(new AmqpError(ReplyCode.connectionForced, 'broker forced connection closure with reason \'shutdown\''));
    this.destroy('broker stopping');
  }

  channelClosed(id: number): void {
    const channel = this.channels.get(id);
    if (!channel) return;
    this.channels.delete(id);
    this.context.counters.retired.add(channel.stats);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    try {
      if (this.state === 'header') {
        this.header = Buffer.concat([this.header, chunk]);
        if (this.header.length < 8) return;
        if (!isProtocolHeader(this.header)) {
          this.socket.end(PROTOCOL_HEADER);
          this.state = 'closed';
          return;
        }
        const rest = this.header.subarray(8);
        this.header = Buffer.alloc(0);
        this.state = 'start';
        this.sendStart();
        if (rest.length === 0) return;
        chunk = rest;
      }
      this.parser.push(chunk);
    } catch (err) {
      this.fail(err);
    }
  }

  private readonly onFrame = (type: number, channelId: number, payload: Buffer): void => {
    if (type === FrameType.heartbeat || this.state === 'closed' || this.state === 'draining') return;
    if (this.state === 'closing') {
      if (type === FrameType.method && channelId === 0) {
        const method = parseMethod(payload);
        if (method.name === 'connection.close-ok' || method.name === 'connection.close') {
          if (method.name === 'connection.close') this.sendMethod(0, 'connection.close-ok', {});
          this.destroy('closed');
        }
      }
      return;
    }
    if (channelId === 0) {
      if (type !== FrameType.method) throw amqpError.unexpectedFrame('expected method frame, got non method frame instead');
      this.onConnectionMethod(parseMethod(payload));
      return;
    }
    if (this.state !== 'running') throw amqpError.channelError('unexpected frame before connection.open');
    const channel = this.channels.get(channelId);
    if (channel) channel.onFrame(type, payload);
    else this.openChannel(type, channelId, payload);
  };

  private openChannel(type: number, id: number, payload: Buffer): void {
    if (id > this.channelMax) throw amqpError.channelError(`channel ${id} is above channel_max ${this.channelMax}`);
    if (type !== FrameType.method) throw amqpError.channelError("expected 'channel.open'");
    const method = parseMethod(payload);
    if (method.name !== 'channel.open') throw amqpError.channelError("expected 'channel.open'").during(method.name);
    this.channels.set(id, new AmqpChannel(id, this, this.vhost!));
    this.context.counters.channelsOpened++;
    this.sendMethod(id, 'channel.open-ok', { channelId: Buffer.alloc(0) });
  }

  private onConnectionMethod(method: AmqpMethod): void {
    switch (method.name) {
      case 'connection.start-ok':
        return this.onStartOk(method.args);
      case 'connection.tune-ok':
        return this.onTuneOk(method.args);
      case 'connection.open':
        return this.onOpen(method.args);
      case 'connection.close':
        this.state = 'draining';
        void Promise.all([...this.channels.values()].map((c) => c.settled())).then(() => {
          this.sendMethod(0, 'connection.close-ok', {});
          this.closeChannels();
          this.finish('client closed');
        });
        return;
      case 'connection.close-ok':
        this.destroy('closed');
        return;
      case 'connection.update-secret':
        this.sendMethod(0, 'connection.update-secret-ok', {});
        return;
      default:
        throw amqpError.commandInvalid(`unexpected method ${method.name} on channel 0`);
    }
  }

  private sendStart(): void {
    const capabilities = new Map(CAPABILITIES.map((c) => [c, field.bool(true)]));
    const serverProperties: FieldTable = new Map([
      ['product', field.string('RabbitMQ')],
      ['version', field.string(SERVER_VERSION)],
      ['platform', field.string(`Node.js ${process.version} (Wharf)`)],
      ['cluster_name', field.string('wharf')],
      ['copyright', field.string('Wharf developers')],
      ['information', field.string('Wharf: AMQP 0-9-1 with RabbitMQ semantics over a segment log')],
      ['capabilities', { type: 'F', value: capabilities }],
    ]);
    this.sendMethod(0, 'connection.start', { versionMajor: 0, versionMinor: 9, serverProperties, mechanisms: Buffer.from(this.mechanisms.join(' ')), locales: Buffer.from('en_US') });
  }

  private get mechanisms(): readonly string[] {
    return isTls(this.socket) ? TLS_MECHANISMS : PLAINTEXT_MECHANISMS;
  }

  private onStartOk(args: MethodArgs['connection.start-ok']): void {
    if (this.state !== 'start') throw amqpError.commandInvalid('unexpected connection.start-ok');
    this.clientProperties = args.clientProperties;
    this.authMechanism = args.mechanism;
    const caps = args.clientProperties.get('capabilities');
    if (caps?.type === 'F') for (const [name, value] of caps.value) this.clientCapabilities.set(name, value.type === 't' && value.value);
    if (!this.mechanisms.includes(args.mechanism)) {
      const known = PLAINTEXT_MECHANISMS.includes(args.mechanism) || TLS_MECHANISMS.includes(args.mechanism);
      this.logger.warn({ mechanism: args.mechanism }, `${known ? 'invalid' : 'unknown'} authentication mechanism; closing the connection`);
      this.state = 'closing';
      this.socket.pause();
      setTimeout(() => this.destroy('authentication mechanism not offered'), SILENT_CLOSE_DELAY_MS).unref();
      return;
    }
    this.state = 'authenticating';
    void this.logIn(args.mechanism, args.response).catch((err: unknown) => this.fail(err));
  }

  /**
   * Checks the credentials (off the event loop where a password needs PBKDF2) or, for EXTERNAL, the
   * verified client certificate, then tunes; a refusal comes after the failed-login delay.
   */
  private async logIn(mechanism: string, response: Buffer): Promise<void> {
    const users = this.context.users;
    const { user, name } = mechanism === 'EXTERNAL' ? this.certificateLogin() : await this.passwordLogin(mechanism, response);
    if (this.state !== 'authenticating') return;
    if (!user) {
      const security = users.security;
      security.authenticationFailed({ protocol: 'amqp', mechanism, user: name, remote: this.socket.remoteAddress, reason: 'login refused' });
      if (security.failedAuthenticationDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, security.failedAuthenticationDelayMs));
      if (this.state !== 'authenticating') return;
      const refused = new AmqpError(ReplyCode.accessRefused, `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`, 0, 0, true);
      if (this.capability('authentication_failure_close')) this.closeWith(refused);
      else this.destroy('login refused');
      return;
    }
    this.user = user.name;
    this.access = users.access(user, this.socket.remoteAddress);
    this.state = 'tune';
    const { channelMax, frameMax, heartbeat } = this.context.settings;
    this.sendMethod(0, 'connection.tune', { channelMax, frameMax, heartbeat });
  }

  private async passwordLogin(mechanism: string, response: Buffer): Promise<{ user?: AmqpUser; name?: string }> {
    const credentials: Credentials | undefined = parseCredentials(mechanism, response);
    return { user: credentials && (await this.context.users.authenticate(credentials, this.socket.remoteAddress)), name: credentials?.user };
  }

  /** EXTERNAL: the user a verified client certificate names (`--amqp-ssl-cert-login-from`). */
  private certificateLogin(): { user?: AmqpUser; name?: string } {
    const certificate = verifiedClientCertificate(this.socket);
    if (!certificate) {
      this.logger.warn('EXTERNAL login refused: the client presented no verified TLS certificate');
      return {};
    }
    const name = certificateUserName(certificate, this.context.settings.sslCertLoginFrom);
    return { user: name === undefined ? undefined : this.context.users.authenticateExternal(name, this.socket.remoteAddress), name };
  }

  private onTuneOk(args: MethodArgs['connection.tune-ok']): void {
    if (this.state !== 'tune') throw amqpError.commandInvalid('unexpected connection.tune-ok');
    const { channelMax, frameMax } = this.context.settings;
    if (args.frameMax !== 0 && (args.frameMax < 4096 || args.frameMax > frameMax)) {
      throw amqpError.notAllowed(`frame_max=${args.frameMax} < 4096 or > ${frameMax}`).during('connection.tune-ok');
    }
    this.frameMax = args.frameMax === 0 ? frameMax : args.frameMax;
    this.parser.frameMax = this.frameMax;
    this.channelMax = args.channelMax === 0 ? channelMax : Math.min(channelMax, args.channelMax);
    this.heartbeatSeconds = args.heartbeat;
    this.state = 'open';
  }

  private onOpen(args: MethodArgs['connection.open']): void {
    if (this.state !== 'open') throw amqpError.commandInvalid('unexpected connection.open');
    const vhost = this.context.vhosts.get(args.virtualHost);
    if (!vhost) throw amqpError.notAllowed(`vhost ${args.virtualHost} not found`).during('connection.open');
    if (!this.access.canOpenVhost(args.virtualHost)) {
      throw amqpError.notAllowed(`access to vhost '${args.virtualHost}' refused for user '${this.user}'`).during('connection.open');
    }
    this.vhost = vhost;
    this.state = 'running';
    clearTimeout(this.handshakeTimer);
    this.sendMethod(0, 'connection.open-ok', { knownHosts: '' });
    this.startHeartbeats();
    if (this.context.blocked) this.setBlocked(true);
  }

  private startHeartbeats(): void {
    if (this.heartbeatSeconds === 0) return;
    const intervalMs = (this.heartbeatSeconds * 1000) / 2;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastReceived > this.heartbeatSeconds * 2000) {
        this.logger.info('missed heartbeats from the client; closing');
        this.destroy('missed heartbeats');
        return;
      }
      if (now - this.outbound.lastWrite >= intervalMs) {
        this.outbound.release();
        this.send(HEARTBEAT_FRAME);
      }
    }, intervalMs);
    this.heartbeatTimer.unref();
  }

  /** A channel error closes its channel; anything else closes the connection (bad framing: 501). */
  private fail(err: unknown): void {
    if (err instanceof AmqpError) {
      this.closeWith(err);
      return;
    }
    if (BrokerError.is(err, 'FRAME_TOO_LARGE') || BrokerError.is(err, 'MALFORMED_INPUT')) {
      this.logger.warn({ reason: err.message }, 'bad frame; closing the connection');
      if (this.state === 'header' || this.state === 'start') this.destroy('bad frame');
      else this.closeWith(amqpError.frameError(err.message));
      return;
    }
    this.logger.error({ err }, 'connection failed');
    this.closeWith(new AmqpError(ReplyCode.internalError, 'internal error'));
  }

  private closeChannels(): void {
    for (const channel of [...this.channels.values()]) {
      channel.release();
      this.context.counters.retired.add(channel.stats);
    }
    this.channels.clear();
  }

  private destroy(reason: string): void {
    if (this.state === 'closed') return;
    this.logger.debug({ reason }, 'connection closed');
    this.state = 'closed';
    this.outbound.flush();
    this.socket.destroy();
    this.teardown();
  }

  /** Half-closes after close-ok: frames the client wrote before seeing close-ok are read and ignored, not refused. */
  private finish(reason: string): void {
    if (this.state === 'closed') return;
    this.logger.debug({ reason }, 'connection closed');
    this.state = 'closed';
    this.outbound.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.teardown();
  }

  private teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    clearTimeout(this.handshakeTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.channels.size > 0) this.closeChannels();
    this.state = 'closed';
    this.onClosed(this);
  }
}
