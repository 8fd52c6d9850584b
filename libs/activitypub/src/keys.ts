import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(generateKeyPairCb);

export interface ActorKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

/**
 * An RSA-2048 key pair for an actor. Mastodon and most of the fediverse verify HTTP Signatures only
 * with RSA-SHA256, so actor keys are RSA. Generation runs on libuv's thread pool, off the event loop.
 */
export async function generateActorKeyPair(): Promise<ActorKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}
