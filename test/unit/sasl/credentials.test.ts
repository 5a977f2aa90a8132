import { expect } from 'chai';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import {
  deriveCredentials, deriveScramKeys, verifyPassword, saslprep, InvalidPasswordError, SCRAM_HASHES,
  type ScramHash,
} from '../../../server/sasl/credentials.ts';

const NODE: Record<ScramHash, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };
const LEN: Record<ScramHash, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-512': 64 };

/** StoredKey and ServerKey computed here independently (RFC 5802 §3). */
function independentKeys(hash: ScramHash, password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(password, salt, iterations, LEN[hash], NODE[hash]);
  const clientKey = createHmac(NODE[hash], salted).update('Client Key').digest();
  return {
    storedKey: createHash(NODE[hash]).update(clientKey).digest('base64'),
    serverKey: createHmac(NODE[hash], salted).update('Server Key').digest('base64'),
  };
}

describe('SCRAM credentials', () => {
  it('derives material for all three hashes, with distinct random 16-byte salts and the given count', async () => {
    const creds = await deriveCredentials('correct horse', { iterations: 4096 });
    expect(Object.keys(creds).sort()).to.deep.equal(['SHA-1', 'SHA-256', 'SHA-512']);
    for (const hash of SCRAM_HASHES) {
      const c = creds[hash];
      expect(Object.keys(c).sort()).to.deep.equal(['iterations', 'salt', 'serverKey', 'storedKey']);
      expect(c.iterations).to.equal(4096);
      const salt = Buffer.from(c.salt, 'base64');
      expect(salt).to.have.length(16);
      expect(c).to.deep.include(independentKeys(hash, 'correct horse', salt, 4096));
    }
    expect(new Set(SCRAM_HASHES.map((h) => creds[h].salt)).size).to.equal(3);
    const again = await deriveCredentials('correct horse', { iterations: 4096 });
    expect(again['SHA-256'].salt).to.not.equal(creds['SHA-256'].salt);
    expect(JSON.parse(JSON.stringify(creds))).to.deep.equal(creds); // plain JSON values
  });

  it('defaults to 4096 iterations and accepts a count per hash', async () => {
    const def = await deriveCredentials('pw');
    expect(SCRAM_HASHES.map((h) => def[h].iterations)).to.deep.equal([4096, 4096, 4096]);
    const per = await deriveCredentials('pw', { iterations: { 'SHA-1': 5000, 'SHA-512': 6000 } });
    expect(SCRAM_HASHES.map((h) => per[h].iterations)).to.deep.equal([5000, 4096, 6000]);
    let err: unknown;
    try { await deriveCredentials('pw', { iterations: 0 }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(RangeError);
  });

  it('reproduces the RFC 5802 §5 and RFC 7677 §3 keys for "pencil"', async () => {
    for (const [hash, salt] of [['SHA-1', 'QSXCR+Q6sek8bf92'], ['SHA-256', 'W22ZaJ0SNY7soEsUEjb6gQ==']] as const) {
      const keys = await deriveScramKeys(hash, 'pencil', Buffer.from(salt, 'base64'), 4096);
      expect(keys).to.deep.equal({ salt, iterations: 4096, ...independentKeys(hash, 'pencil', Buffer.from(salt, 'base64'), 4096) });
    }
  });

  it('SASLpreps the password: "I\\u00ADX" gives the same keys as "IX"', async () => {
    const salt = Buffer.alloc(16, 7);
    expect(await deriveScramKeys('SHA-256', 'I\u00ADX', salt, 4096)).to.deep.equal(await deriveScramKeys('SHA-256', 'IX', salt, 4096));
    // U+00A0 (non-ASCII space) maps to U+0020 (RFC 4013 §2.1)
    expect(await deriveScramKeys('SHA-1', 'a\u00A0b', salt, 4096)).to.deep.equal(await deriveScramKeys('SHA-1', 'a b', salt, 4096));
  });

  it('refuses a password SASLprep prohibits', async () => {
    let err: unknown;
    try { await deriveCredentials('bell\u0007'); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(InvalidPasswordError);
  });

  describe('verifyPassword (for PLAIN)', () => {
    it('accepts the right password and refuses others', async () => {
      const creds = await deriveCredentials('s3cret pass');
      expect(await verifyPassword('s3cret pass', creds)).to.equal(true);
      expect(await verifyPassword('s3cret pasS', creds)).to.equal(false);
      expect(await verifyPassword('', creds)).to.equal(false);
    });

    it('compares after SASLprep, and refuses prohibited input without throwing', async () => {
      const creds = await deriveCredentials('IX');
      expect(await verifyPassword('I\u00ADX', creds)).to.equal(true);
      expect(await verifyPassword('IX\u0007', creds)).to.equal(false);
    });

    it('uses the stored salt and iteration count', async () => {
      const creds = await deriveCredentials('pw', { iterations: 5000 });
      const wrongCount = { ...creds, 'SHA-256': { ...creds['SHA-256'], iterations: 4096 } };
      expect(await verifyPassword('pw', creds)).to.equal(true);
      expect(await verifyPassword('pw', wrongCount)).to.equal(false);
    });
  });

  describe('saslprep (RFC 4013 §3 examples)', () => {
    it('maps and normalises', () => {
      expect(saslprep('I\u00ADX')).to.equal('IX');
      expect(saslprep('user')).to.equal('user');
      expect(saslprep('USER')).to.equal('USER');
      expect(saslprep('\u00AA')).to.equal('a');
      expect(saslprep('\u2168')).to.equal('IX');
    });

    it('rejects prohibited characters and bidi violations', () => {
      expect(saslprep('\u0007')).to.equal(undefined);
      expect(saslprep('\u0627\u0031')).to.equal(undefined);
    });
  });
});
