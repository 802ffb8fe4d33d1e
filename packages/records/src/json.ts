/** RawDocument as a JSON object (UTF-8), validated with messages that name the field. */
import { z } from 'zod';
import { RecordError } from './errors.js';
import type { RawDocumentRecord } from './contract.js';

const RawDocumentJson = z.strictObject({
  doc_id: z.string().min(1, 'must be a non-empty string'),
  version: z.string().nullable().optional(),
  text: z.string(),
  content_type: z.string().optional(),
  source: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  event_time: z.number().int().nullable().optional(),
});

/** Parses and validates a RawDocument from JSON bytes; defaults as in the Avro schema. */
export function decodeRawDocumentJson(bytes: Uint8Array): RawDocumentRecord {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new RecordError('INVALID_UTF8', 'RawDocument JSON is not valid UTF-8', { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new RecordError('INVALID_JSON', `RawDocument JSON does not parse: ${(cause as Error).message}`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordError('INVALID_JSON', 'RawDocument JSON must be an object');
  }
  const parsed = RawDocumentJson.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(record)';
    const missing = issue?.code === 'invalid_type' && !(String(issue.path[0]) in (value as object));
    throw new RecordError(
      'INVALID_FIELD',
      `RawDocument field ${field}: ${missing ? 'is missing' : (issue?.message ?? 'invalid')}`,
      { field },
    );
  }
  const d = parsed.data;
  // JSON can escape lone surrogates ("\ud800"), which are not Unicode text and have no UTF-8 form.
  for (const [field, v] of [
    ['doc_id', d.doc_id],
    ['text', d.text],
  ] as const) {
    if (!v.isWellFormed()) {
      throw new RecordError(
        'INVALID_UTF8',
        `RawDocument field ${field}: contains a lone surrogate (not Unicode text)`,
        { field },
      );
    }
  }
  return {
    doc_id: d.doc_id,
    version: d.version ?? null,
    text: d.text,
    content_type: d.content_type ?? 'text/plain',
    source: d.source ?? null,
    metadata: d.metadata ?? {},
    event_time: d.event_time ?? null,
  };
}
