import { amqpError } from './amqp-error.ts';
import { FrameType, type DecodedPublish } from './codec/index.ts';

/**
 * Gathers the content of one basic.publish: the header frame (size and properties), then body frames
 * until the announced size. One per channel, reused for every message.
 */
export class ContentAssembler {
  publish: DecodedPublish | undefined;
  /** The content header's property bytes, or undefined before the header frame. */
  properties: Buffer | undefined;
  private bodySize = 0;
  private received = 0;
  private firstPart: Buffer | undefined;
  private moreParts: Buffer[] | undefined;

  constructor(private readonly maxBodyBytes: number) {}

  get active(): boolean {
    return this.publish !== undefined;
  }

  start(publish: DecodedPublish): void {
    this.publish = publish;
    this.properties = undefined;
    this.received = 0;
    this.firstPart = undefined;
    this.moreParts = undefined;
  }

  reset(): void {
    this.publish = undefined;
    this.properties = undefined;
    this.firstPart = undefined;
    this.moreParts = undefined;
  }

  /** Takes the next content frame; true once the body is complete (then read `body()`). */
  accept(type: number, payload: Buffer): boolean {
    if (this.properties === undefined) {
      if (type !== FrameType.header) throw amqpError.unexpectedFrame('expected content header for class 60, got non content header frame instead').during('basic.publish');
      if (payload.length < 14) throw amqpError.frameError('content header too short');
      const bodySize = payload.readUInt32BE(4) * 0x1_0000_0000 + payload.readUInt32BE(8);
      if (bodySize > this.maxBodyBytes) {
        this.reset();
        throw amqpError.precondition(`message size ${bodySize} is larger than configured max size ${this.maxBodyBytes}`).during('basic.publish');
      }
      this.bodySize = bodySize;
      this.properties = payload.subarray(12);
      return bodySize === 0;
    }
    if (type !== FrameType.body) throw amqpError.unexpectedFrame('expected content body, got non content body frame instead').during('basic.publish');
    if (this.firstPart === undefined) this.firstPart = payload;
    else (this.moreParts ??= [this.firstPart]).push(payload);
    this.received += payload.length;
    if (this.received > this.bodySize) throw amqpError.frameError('content body larger than announced');
    return this.received === this.bodySize;
  }

  /** The whole body: the single frame's payload as it is, or the frames joined once. */
  body(): Buffer {
    if (this.moreParts) return Buffer.concat(this.moreParts, this.received);
    return this.firstPart ?? EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
