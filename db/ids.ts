// Opaque, random identifiers: they reveal neither how many rows exist nor
// when one was made, and cannot be guessed from a neighbour.
import { randomBytes } from 'node:crypto';

/** 128 random bits, base64url. @example createId() // => 'q3J0…' (22 chars) */
export function createId(): string {
  return randomBytes(16).toString('base64url');
}
