/**
 * The Schema Registry client against a local HTTP server that answers like Confluent's REST API
 * (documented endpoints POST /subjects/{subject}/versions and GET /schemas/ids/{id}, content type
 * application/vnd.schemaregistry.v1+json, error_code 40403 for an unknown id). No registry server could
 * be installed on this machine from its package registries (see schemas/README.md), so the exchange is
 * checked request by request here.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeRawDocument,
  latestSchema,
  rawDocumentCodec,
  SchemaRegistryClient,
  topicSubject,
  type RawDocumentRecord,
} from '@chunkline/records';

interface Exchange {
  method: string;
  url: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: string;
}

const exchanges: Exchange[] = [];
const schemas = new Map<number, string>();
let server: Server;
let url: string;

async function bodyOf(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      exchanges.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
        body,
      });
      res.setHeader('Content-Type', 'application/vnd.schemaregistry.v1+json');
      const reg = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
      const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method === 'POST' && reg) {
        const schema = (JSON.parse(body) as { schema: string }).schema;
        const id = [...schemas.entries()].find(([, s]) => s === schema)?.[0] ?? schemas.size + 1;
        schemas.set(id, schema);
        res.end(JSON.stringify({ id }));
      } else if (req.method === 'GET' && get) {
        const schema = schemas.get(Number(get[1]));
        if (schema === undefined) {
          res.statusCode = 404;
          res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
        } else res.end(JSON.stringify({ schema }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error_code: 40401, message: 'Subject not found' }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const DOC: RawDocumentRecord = {
  doc_id: 'k1',
  version: 'v1',
  text: 'registry framed',
  content_type: 'text/plain',
  source: null,
  metadata: { a: 'b' },
  event_time: 1764000000000,
};

describe('SchemaRegistryClient', () => {
  it('registers under TopicNameStrategy once, caches the id, and decodes registry-framed values', async () => {
    const client = new SchemaRegistryClient({ url, username: 'u', password: 'p' });
    const subject = topicSubject('documents.raw');
    expect(subject).toBe('documents.raw-value');
    const id = await client.register(subject, latestSchema('raw-document').schema);
    expect(await client.register(subject, latestSchema('raw-document').schema)).toBe(id);
    const posts = exchanges.filter((e) => e.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      url: '/subjects/documents.raw-value/versions',
      contentType: 'application/vnd.schemaregistry.v1+json',
      auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
    expect(JSON.parse((JSON.parse(posts[0]!.body) as { schema: string }).schema)).toEqual(
      latestSchema('raw-document').schema,
    );

    const framed = rawDocumentCodec.encodeRegistry(id, DOC);
    expect(await decodeRawDocument(framed, { registry: client })).toEqual(DOC);
    expect(await decodeRawDocument(framed, { registry: client })).toEqual(DOC);
    expect(exchanges.filter((e) => e.method === 'GET' && e.url === `/schemas/ids/${id}`)).toHaveLength(1);
  });

  it('reads data written with another registered writer schema through schema resolution', async () => {
    const client = new SchemaRegistryClient({ url });
    // An older producer's schema without content_type/metadata/event_time: defaults fill them in.
    const old = {
      type: 'record',
      name: 'RawDocument',
      namespace: 'chunkline',
      fields: [
        { name: 'doc_id', type: 'string' },
        { name: 'version', type: ['null', 'string'], default: null },
        { name: 'text', type: 'string' },
        { name: 'source', type: ['null', 'string'], default: null },
      ],
    };
    const id = await client.register('old-value', old as never);
    const { avroType } = await import('../src/schemas.js');
    const body = avroType(old as never).toBuffer({ doc_id: 'o', version: null, text: 'old', source: 's' });
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, id]), body]);
    expect(await decodeRawDocument(framed, { registry: client })).toEqual({
      doc_id: 'o',
      version: null,
      text: 'old',
      content_type: 'text/plain',
      source: 's',
      metadata: {},
      event_time: null,
    });
  });

  it('gives UNKNOWN_SCHEMA_ID for an id the registry does not know', async () => {
    const client = new SchemaRegistryClient({ url });
    const framed = rawDocumentCodec.encodeRegistry(999, DOC);
    await expect(decodeRawDocument(framed, { registry: client })).rejects.toMatchObject({ code: 'UNKNOWN_SCHEMA_ID' });
  });

  it('marks a 5xx answer retriable and a 4xx answer not', async () => {
    const c5 = new SchemaRegistryClient({ url, fetch: async () => new Response('{}', { status: 503 }) });
    await expect(c5.typeById(1)).rejects.toMatchObject({ code: 'REGISTRY', retriable: true });
    const c4 = new SchemaRegistryClient({
      url,
      fetch: async () => new Response('{"error_code":42201}', { status: 422 }),
    });
    await expect(c4.register('s-value', latestSchema('chunk').schema)).rejects.toMatchObject({
      code: 'REGISTRY',
      retriable: false,
    });
  });
});
