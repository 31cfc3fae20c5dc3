/**
 * Ed25519 keys that sign licence files. A folder holds `<key id>.pem` private keys (PKCS#8); the active
 * one signs new files, every one of them verifies (key rotation: add a key, switch the active id, keep
 * the old one until the files it signed have expired).
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface LicenceKeyRing {
  activeKeyId: string;
  privateKey(keyId: string): KeyObject | undefined;
  publicKey(keyId: string): KeyObject | undefined;
  /** key id → SPKI PEM public key, for verifiers */
  publicKeysPem(): Record<string, string>;
}

export function loadLicenceKeyRing(dir: string, activeKeyId: string): LicenceKeyRing {
  const privateKeys = new Map<string, KeyObject>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.pem'))) {
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, file)));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
    privateKeys.set(path.basename(file, '.pem'), key);
  }
  if (!privateKeys.has(activeKeyId))
    throw new Error(`no ${activeKeyId}.pem in ${dir} (the active licence key)`);
  const publicKeys = new Map([...privateKeys].map(([id, key]) => [id, crypto.createPublicKey(key)]));
  return {
    activeKeyId,
    privateKey: (id) => privateKeys.get(id),
    publicKey: (id) => publicKeys.get(id),
    publicKeysPem: () =>
      Object.fromEntries(
        [...publicKeys].map(([id, key]) => [id, key.export({ type: 'spki', format: 'pem' }).toString()]),
      ),
  };
}

/** Writes a new Ed25519 private key `<keyId>.pem` into `dir` (development set-up, tests, rotation). */
export function generateLicenceKey(dir: string, keyId: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(dir, `${keyId}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
}
