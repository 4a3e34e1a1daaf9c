import { describe, expect, it } from 'vitest';
import { rabbitPasswordHash, rabbitPasswordMatches, saltPassword, scramCredential } from './credentials.ts';
import { SaslFailure, ScramClient, ScramServer } from './scram.ts';

/** RFC 7677's SCRAM-SHA-256 example (user `user`, password `pencil`, 4096 iterations). */
const RFC = {
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  storedKey: 'WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=',
};

async function rfcCredential() {
  return scramCredential('SCRAM-SHA-256', await saltPassword('SCRAM-SHA-256', 'pencil', RFC.salt, 4096), RFC.salt, 4096);
}

describe('SCRAM (RFC 5802 / 7677)', () => {
  it('derives the RFC 7677 stored key and answers its exchange with its server signature', async () => {
    const credential = await rfcCredential();
    expect(credential.storedKey.toString('base64')).toBe(RFC.storedKey);
    const server = new ScramServer('SCRAM-SHA-256', (name) => (name === 'user' ? credential : undefined), () => RFC.serverNonce);
    expect(server.evaluate(Buffer.from(RFC.clientFirst)).toString()).toBe(`r=rOprNGfwEbeRWgbNEkqO${RFC.serverNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`);
    expect(server.evaluate(Buffer.from(RFC.clientFinal)).toString()).toBe(RFC.serverFinal);
    expect(server.complete).toBe(true);
    expect(server.username).toBe('user');
  });

  it('refuses a wrong proof, an unknown user, a foreign authorization id, a bad nonce and malformed messages', async () => {
    const credential = await rfcCredential();
    const lookup = (name: string) => (name === 'user' ? credential : undefined);
    const wrongProof = new ScramServer('SCRAM-SHA-256', lookup, () => RFC.serverNonce);
    wrongProof.evaluate(Buffer.from(RFC.clientFirst));
    expect(() => wrongProof.evaluate(Buffer.from(RFC.clientFinal.replace('p=dHzb', 'p=aHzb')))).toThrow(SaslFailure);
    expect(() => wrongProof.evaluate(Buffer.from(RFC.clientFinal))).toThrow(/unexpected SCRAM message in state failed/);

    expect(() => new ScramServer('SCRAM-SHA-256', lookup).evaluate(Buffer.from('n,,n=nobody,r=abc'))).toThrow(/Invalid user credentials/);
    try {
      new ScramServer('SCRAM-SHA-256', lookup).evaluate(Buffer.from('n,a=admin,n=user,r=abc'));
      expect.unreachable();
    } catch (err) {
      expect((err as SaslFailure).clientMessage).toMatch(/authorization id that is different/);
    }
    const badNonce = new ScramServer('SCRAM-SHA-256', lookup, () => RFC.serverNonce);
    badNonce.evaluate(Buffer.from(RFC.clientFirst));
    expect(() => badNonce.evaluate(Buffer.from(RFC.clientFinal.replace('r=rOpr', 'r=xOpr')))).toThrow(/nonce/);
    for (const bad of ['', 'y,,n=user,r=x', 'n,,n=us,er,r=x', 'n,,n=user,r=', '\u00ff\u0000', 'n,,n=user,r=a b']) {
      expect(() => new ScramServer('SCRAM-SHA-256', lookup).evaluate(Buffer.from(bad, 'latin1'))).toThrow(SaslFailure);
    }
  });

  it("Wharf's client and server agree for both mechanisms, with names that need escaping", async () => {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      const salt = Buffer.from('salty');
      const credential = scramCredential(mechanism, await saltPassword(mechanism, 'sëcret', salt, 4096), salt, 4096);
      const server = new ScramServer(mechanism, (name) => (name === 'a,b=c' ? credential : undefined));
      const client = new ScramClient(mechanism, 'a,b=c', 'sëcret');
      const serverFirst = server.evaluate(client.first());
      client.verify(server.evaluate(await client.final(serverFirst)));
      expect(server.username).toBe('a,b=c');

      const impostor = new ScramClient(mechanism, 'a,b=c', 'wrong');
      const other = new ScramServer(mechanism, () => credential);
      const impostorFinal = await impostor.final(other.evaluate(impostor.first()));
      expect(() => other.evaluate(impostorFinal)).toThrow(/Invalid client credentials/);
    }
  });
});

describe('RabbitMQ password hashes', () => {
  it('matches the documented rabbit_password_hashing_sha256 example and checks passwords', () => {
    const hash = rabbitPasswordHash('test12', Buffer.from('908DC60A', 'hex'));
    expect(hash).toBe('kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR');
    expect(rabbitPasswordMatches(hash, 'test12')).toBe(true);
    expect(rabbitPasswordMatches(hash, 'test13')).toBe(false);
    expect(rabbitPasswordMatches('short', 'test12')).toBe(false);
  });
});
