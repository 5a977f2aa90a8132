// Document ids: random URL-safe strings in both adapters (never ObjectIds), so data moves freely.
import { randomBytes } from 'node:crypto';

/** 128 random bits as 22 base64url characters. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}
