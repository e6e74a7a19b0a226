import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Shorter is guessable; longer only costs hashing time (argon2 reads every byte) and invites abuse. */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's recommended minimum). The
 * parameters are stored in the hash, so raising them later still verifies older hashes.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** False for a wrong password and for a hash that is not one (never throws on bad input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time a real verification takes and answers false: sign-in with an unknown email must not
 * be measurably faster than with a known one, or the timing would tell which addresses have accounts.
 */
export async function verifyNoPassword(password: string): Promise<false> {
  dummyHash ??= hash(randomBytes(16).toString('base64url'));
  await verifyPassword(await dummyHash, password);
  return false;
}
