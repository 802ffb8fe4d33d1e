/**
 * The record contract: every version of every schema in `schemas/` (the single source), loaded once.
 * Each kind's newest version is what chunkline writes; every version can be read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { crc64Avro } from './rabin.js';

/** The record types of the contract. */
export type RecordKind = 'raw-document' | 'chunk' | 'manifest' | 'section';

export const RECORD_KINDS: readonly RecordKind[] = ['raw-document', 'chunk', 'manifest', 'section'];

/** One version of one schema. */
export interface SchemaVersion {
  readonly kind: RecordKind;
  readonly version: number;
  /** The schema as written in its .avsc file (docs and defaults included). */
  readonly schema: avro.Schema;
  readonly type: avro.Type;
  /** Avro Parsing Canonical Form of the schema. */
  readonly canonical: string;
  /** CRC-64-AVRO fingerprint of the canonical form. */
  readonly fingerprint: bigint;
}

/** Directory holding `<kind>/v<N>.avsc`. */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

/** Builds an avsc type the way chunkline reads and writes everything (unions of null unwrapped). */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { wrapUnions: 'auto' });
}

/** Describes a parsed schema: its canonical form and fingerprint. */
export function describeSchema(kind: RecordKind, version: number, schema: avro.Schema): SchemaVersion {
  const type = avroType(schema);
  const canonical = JSON.stringify(type.schema());
  return { kind, version, schema, type, canonical, fingerprint: crc64Avro(Buffer.from(canonical, 'utf8')) };
}

function load(): Map<RecordKind, SchemaVersion[]> {
  const out = new Map<RecordKind, SchemaVersion[]>();
  for (const kind of RECORD_KINDS) {
    const dir = `${SCHEMAS_DIR}${kind}/`;
    const versions = readdirSync(dir)
      .map((f) => /^v(\d+)\.avsc$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    if (versions.length === 0) throw new Error(`no schema versions in ${dir}`);
    out.set(
      kind,
      versions.map((v) => describeSchema(kind, v, JSON.parse(readFileSync(`${dir}v${v}.avsc`, 'utf8')) as avro.Schema)),
    );
  }
  return out;
}

const ALL = load();

/** Every version of `kind`, oldest first. */
export function schemaVersions(kind: RecordKind): readonly SchemaVersion[] {
  return ALL.get(kind) ?? [];
}

/** The newest version of `kind`: the one chunkline writes. */
export function latestSchema(kind: RecordKind): SchemaVersion {
  const v = schemaVersions(kind);
  const last = v[v.length - 1];
  if (last === undefined) throw new Error(`no schema for ${kind}`);
  return last;
}

/** The schema version (of any kind) with this fingerprint. */
export function schemaByFingerprint(fp: bigint): SchemaVersion | undefined {
  for (const versions of ALL.values()) for (const v of versions) if (v.fingerprint === fp) return v;
  return undefined;
}
