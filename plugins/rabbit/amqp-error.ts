import { METHOD_IDS, type MethodName } from './codec/index.ts';

/** AMQP reply codes Wharf sends. */
export const ReplyCode = {
  success: 200,
  noRoute: 312,
  connectionForced: 320,
  accessRefused: 403,
  notFound: 404,
  resourceLocked: 405,
  preconditionFailed: 406,
  frameError: 501,
  syntaxError: 502,
  commandInvalid: 503,
  channelError: 504,
  unexpectedFrame: 505,
  resourceError: 506,
  notAllowed: 530,
  notImplemented: 540,
  internalError: 541,
} as const;

const NAMES: Record<number, string> = {
  320: 'CONNECTION_FORCED',
  403: 'ACCESS_REFUSED',
  404: 'NOT_FOUND',
  405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED',
  501: 'FRAME_ERROR',
  502: 'SYNTAX_ERROR',
  503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR',
  505: 'UNEXPECTED_FRAME',
  506: 'RESOURCE_ERROR',
  530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED',
  541: 'INTERNAL_ERROR',
};

/** Codes that close the connection; the rest close only the channel (RabbitMQ's split, not the spec's). */
const CONNECTION_LEVEL = new Set([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

/** An AMQP close: code, RabbitMQ's reply text (`NAME - detail`), and the method that caused it. */
export class AmqpError extends Error {
  readonly replyText: string;

  constructor(
    readonly code: number,
    detail: string,
    readonly classId = 0,
    readonly methodId = 0,
    /** Login failures close the connection with 403. */
    readonly forceConnection = false,
  ) {
    // RabbitMQ's text for a crashed channel is the name alone.
    const replyText = detail === '' ? (NAMES[code] ?? 'ERROR') : `${NAMES[code] ?? 'ERROR'} - ${detail}`;
    super(replyText);
    this.replyText = replyText;
  }

  get closesConnection(): boolean {
    return this.forceConnection || CONNECTION_LEVEL.has(this.code);
  }

  /** The same error attributed to `method`. */
  during(method: MethodName): AmqpError {
    if (this.classId !== 0) return this;
    const [classId, methodId] = METHOD_IDS[method];
    const dash = this.replyText.indexOf(' - ');
    return new AmqpError(this.code, dash < 0 ? '' : this.replyText.slice(dash + 3), classId, methodId, this.forceConnection);
  }
}

export const amqpError = {
  notFoundQueue: (queue: string, vhost: string) => new AmqpError(ReplyCode.notFound, `no queue '${queue}' in vhost '${vhost}'`),
  notFoundExchange: (exchange: string, vhost: string) => new AmqpError(ReplyCode.notFound, `no exchange '${exchange}' in vhost '${vhost}'`),
  precondition: (detail: string) => new AmqpError(ReplyCode.preconditionFailed, detail),
  accessRefused: (detail: string) => new AmqpError(ReplyCode.accessRefused, detail),
  locked: (queue: string, vhost: string) =>
    new AmqpError(
      ReplyCode.resourceLocked,
      `cannot obtain exclusive access to locked queue '${queue}' in vhost '${vhost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
    ),
  /** RabbitMQ's answer for a queue whose process crashed (here: whose log is damaged). */
  crashed: (queue: string, vhost: string) => new AmqpError(ReplyCode.notFound, `queue '${queue}' in vhost '${vhost}' has crashed and failed to restart`),
  notImplemented: (detail: string) => new AmqpError(ReplyCode.notImplemented, detail),
  /** What RabbitMQ answers when the channel process crashed: 541 and no detail. */
  channelCrashed: () => new AmqpError(ReplyCode.internalError, ''),
  notAllowed: (detail: string) => new AmqpError(ReplyCode.notAllowed, detail),
  commandInvalid: (detail: string) => new AmqpError(ReplyCode.commandInvalid, detail),
  channelError: (detail: string) => new AmqpError(ReplyCode.channelError, detail),
  unexpectedFrame: (detail: string) => new AmqpError(ReplyCode.unexpectedFrame, detail),
  frameError: (detail: string) => new AmqpError(ReplyCode.frameError, detail),
};
