/**
 * Temporal payloads encrypted before they leave the process (docs/security.md): workflow inputs, update
 * arguments (the codes users submit), activity results and update answers (Stripe client secrets) are stored
 * in the Temporal history as AES-256-GCM ciphertext, readable only with TEMPORAL_PAYLOAD_KEY. The shape is
 * Temporal's encryption sample (samples-typescript `encryption`): the whole payload, metadata included, is
 * encrypted; the key id travels in the metadata so a key can be rotated later. Client and worker use the
 * same codec (infra/temporal.ts, worker.ts).
 */
import crypto, { webcrypto } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  ValueError,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;

/** A short, non-secret id of a key: which key encrypted a payload. */
export function payloadKeyId(keyHex: string): string {
  return crypto.createHash('sha256').update(keyHex.toLowerCase()).digest('hex').slice(0, 12);
}

export class EncryptionCodec implements PayloadCodec {
  private constructor(
    private readonly key: webcrypto.CryptoKey,
    private readonly keyId: string,
  ) {}

  /** `keyHex`: 32 bytes in hex (TEMPORAL_PAYLOAD_KEY) */
  static async create(keyHex: string): Promise<EncryptionCodec> {
    if (!/^[0-9a-f]{64}$/i.test(keyHex)) throw new Error('the payload key must be 64 hex characters');
    const key = await webcrypto.subtle.importKey(
      'raw',
      Buffer.from(keyHex, 'hex'),
      { name: 'AES-GCM' },
      false,
      ['encrypt', 'decrypt'],
    );
    return new EncryptionCodec(key, payloadKeyId(keyHex));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const iv = webcrypto.getRandomValues(new Uint8Array(IV_BYTES));
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const sealed = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.key, plain);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: encode(ENCRYPTED_ENCODING),
            [METADATA_KEY_ID]: encode(this.keyId),
          },
          data: Buffer.concat([iv, new Uint8Array(sealed)]),
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
        if (!payload.metadata || !encoding || decode(encoding) !== ENCRYPTED_ENCODING)
          return payload; // written before encryption, or by a client without it
        if (!payload.data) throw new ValueError('encrypted payload without data');
        const keyIdBytes = payload.metadata[METADATA_KEY_ID];
        const keyId = keyIdBytes ? decode(keyIdBytes) : '';
        if (keyId !== this.keyId)
          throw new ValueError(`payload encrypted with key ${keyId}, this process has key ${this.keyId}`);
        const data = payload.data;
        const plain = await webcrypto.subtle.decrypt(
          { name: 'AES-GCM', iv: data.subarray(0, IV_BYTES) },
          this.key,
          data.subarray(IV_BYTES),
        );
        return temporal.api.common.v1.Payload.decode(new Uint8Array(plain));
      }),
    );
  }
}

/** The data converter of every Temporal client and worker of the service. */
export async function encryptedDataConverter(keyHex: string): Promise<DataConverter> {
  return { payloadCodecs: [await EncryptionCodec.create(keyHex)] };
}

type Json = unknown;

/**
 * Every encrypted payload inside a fetched history (or any proto object) replaced by its decoded form:
 * the histories committed under tests/histories are kept decoded, readable in review, and replay without
 * a key (docs/workflow-versioning.md).
 */
export async function decodePayloadsIn<T>(value: T, codec: PayloadCodec): Promise<T> {
  const visit = async (node: Json): Promise<Json> => {
    if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return node;
    if (Array.isArray(node)) return Promise.all(node.map(visit));
    const record = node as Record<string, Json>;
    const metadata = record.metadata as Record<string, Uint8Array> | undefined;
    const encoding = metadata?.[METADATA_ENCODING_KEY];
    if (encoding && ArrayBuffer.isView(encoding) && decode(encoding) === ENCRYPTED_ENCODING) {
      const [decoded] = await codec.decode([record]);
      return decoded;
    }
    // the same prototype: proto message objects stay what historyToJSON expects
    const out = Object.create(Object.getPrototypeOf(node) as object | null) as Record<string, Json>;
    for (const [k, v] of Object.entries(record)) out[k] = await visit(v);
    return out;
  };
  return (await visit(value)) as T;
}
