import fs from 'node:fs';
import tls from 'node:tls';
import type { TlsClientAuth, TlsSettings } from '../config.ts';
import { BrokerError } from '../errors.ts';
import type { Logger } from '../logging.ts';

/** The PEM material a TLS listener is built from. */
export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
}

/**
 * The server's certificate, key and client CAs, read from the `--tls-*` files, shared by every TLS
 * listener. `reload()` reads the files again: listeners switch to the new material for connections they
 * accept from then on (open connections keep theirs); material that does not load is logged and the
 * previous material stays in use.
 */
export class TlsCredentials {
  private current: TlsMaterial | undefined;
  private readonly listeners = new Set<(material: TlsMaterial) => void>();

  constructor(
    private readonly settings: TlsSettings,
    private readonly logger: Logger,
  ) {
    const { cert, key, ca, clientAuth } = settings;
    if ((cert === '') !== (key === '')) throw new BrokerError('CONFIG_INVALID', 'TLS needs both --tls-cert and --tls-key');
    if (cert === '' && (ca !== '' || clientAuth !== 'none')) throw new BrokerError('CONFIG_INVALID', '--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    if (clientAuth !== 'none' && ca === '') throw new BrokerError('CONFIG_INVALID', `--tls-client-auth ${clientAuth} needs --tls-ca (the CAs client certificates are verified against)`);
  }

  /** TLS listeners exist only when a certificate and key are configured. */
  get enabled(): boolean {
    return this.settings.cert !== '';
  }

  get clientAuth(): TlsClientAuth {
    return this.settings.clientAuth;
  }

  get handshakeTimeoutMs(): number {
    return this.settings.handshakeTimeoutMs;
  }

  /** The material in use; `load()` must have succeeded. */
  get material(): TlsMaterial {
    if (!this.current) throw new BrokerError('BROKER_STATE', 'TLS credentials are not loaded');
    return this.current;
  }

  /** Reads and checks the files; throws CONFIG_INVALID when they do not make a usable server context. */
  load(): void {
    if (this.enabled) this.current = this.read();
  }

  /** Reads the files again (SIGHUP); true when the new material is in use. */
  reload(): boolean {
    if (!this.enabled) return false;
    let material: TlsMaterial;
    try {
      material = this.read();
    } catch (err) {
      this.logger.error({ err }, 'TLS certificates not reloaded: keeping the ones in use');
      return false;
    }
    this.current = material;
    for (const listener of this.listeners) listener(material);
    this.logger.info({ cert: this.settings.cert }, 'TLS certificates reloaded');
    return true;
  }

  /** Calls `listener` with each newly loaded material; returns the unsubscriber. */
  onReload(listener: (material: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private read(): TlsMaterial {
    const { cert, key, ca } = this.settings;
    const material: TlsMaterial = { cert: readPem(cert, '--tls-cert'), key: readPem(key, '--tls-key'), ...(ca !== '' ? { ca: readPem(ca, '--tls-ca') } : {}) };
    try {
      tls.createSecureContext(material);
    } catch (err) {
      throw new BrokerError('CONFIG_INVALID', `TLS: ${cert} and ${key}${ca !== '' ? ` with ${ca}` : ''} do not make a server certificate: ${(err as Error).message}`, { cause: err });
    }
    return material;
  }
}

function readPem(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new BrokerError('CONFIG_INVALID', `${flag} ${file}: ${(err as Error).message}`, { cause: err });
  }
}
