/**
 * A small client of the Confluent Schema Registry REST API (also served by Apicurio and Karapace):
 * register a subject's schema, look schemas up by id, and cache both. Subjects follow TopicNameStrategy
 * (`<topic>-value`) unless given.
 */
import type avro from 'avsc';
import { RecordError } from './errors.js';
import { avroType } from './schemas.js';

/** Options of {@link SchemaRegistryClient}. */
export interface SchemaRegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  /** Basic auth credentials, if the registry needs them. */
  username?: string;
  password?: string;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
  /** The fetch implementation (tests pass a recorder). @default globalThis.fetch */
  fetch?: typeof fetch;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** TopicNameStrategy: the subject of a topic's values. */
export function topicSubject(topic: string): string {
  return `${topic}-value`;
}

/** Caching Schema Registry client. */
export class SchemaRegistryClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetcher: typeof fetch;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly types = new Map<number, Promise<avro.Type>>();

  constructor(options: SchemaRegistryOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetcher = options.fetch ?? globalThis.fetch;
    this.headers = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
    if (options.username !== undefined) {
      this.headers.Authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  /** Registers `schema` under `subject` (or finds it already there) and returns its global id. Cached. */
  register(subject: string, schema: avro.Schema): Promise<number> {
    const body = JSON.stringify({ schema: JSON.stringify(schema) });
    const key = `${subject}\0${body}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body).then((r) => {
        const got = (r as { id?: unknown }).id;
        if (typeof got !== 'number')
          throw new RecordError('REGISTRY', `registry answered no id for subject ${subject}`);
        return got;
      });
      id.catch(() => this.ids.delete(key));
      this.ids.set(key, id);
    }
    return id;
  }

  /** The writer type with this global id. Cached. An unknown id gives UNKNOWN_SCHEMA_ID. */
  typeById(id: number): Promise<avro.Type> {
    let t = this.types.get(id);
    if (t === undefined) {
      t = this.request('GET', `/schemas/ids/${id}`).then((r) => {
        const schema = (r as { schema?: unknown }).schema;
        if (typeof schema !== 'string') throw new RecordError('REGISTRY', `registry answered no schema for id ${id}`);
        return avroType(JSON.parse(schema) as avro.Schema);
      });
      t.catch(() => this.types.delete(id));
      this.types.set(id, t);
    }
    return t;
  }

  private async request(method: string, path: string, body?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}${path}`, {
        method,
        headers: this.headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new RecordError('REGISTRY', `schema registry ${this.base} unreachable: ${(cause as Error).message}`, {
        retriable: true,
        cause,
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const code = (json as { error_code?: number } | undefined)?.error_code;
      if (res.status === 404 && (code === 40403 || path.startsWith('/schemas/ids/'))) {
        throw new RecordError(
          'UNKNOWN_SCHEMA_ID',
          `schema registry has no schema with id ${path.split('/').pop() ?? '?'}`,
        );
      }
      throw new RecordError('REGISTRY', `schema registry ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, {
        retriable: res.status >= 500 || res.status === 429,
      });
    }
    return json;
  }
}
