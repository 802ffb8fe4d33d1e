import { createHash } from 'node:crypto';

/** Hex SHA-256 of the parts, separated by NUL so that ("ab","c") and ("a","bc") differ. */
export function hashParts(parts: readonly (string | number)[], hexDigits = 32): string {
  const h = createHash('sha256');
  parts.forEach((p, i) => {
    if (i > 0) h.update('\0');
    h.update(String(p));
  });
  return h.digest('hex').slice(0, hexDigits);
}

/** The version recorded when a document comes without one: a hash of its text. */
export function textVersion(text: string): string {
  return `sha256:${hashParts([text])}`;
}

/** Deterministic chunk id from (doc_id, doc_version, chunker fingerprint, chunk_index). */
export function chunkId(docId: string, docVersion: string, fingerprint: string, index: number): string {
  return hashParts([docId, docVersion, fingerprint, index]);
}
