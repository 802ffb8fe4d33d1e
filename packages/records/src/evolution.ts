/**
 * Schema evolution check: each version must be readable by the next and the next by it, with Avro
 * schema resolution (both directions: FULL compatibility between neighbours).
 */
import type avro from 'avsc';
import { avroType } from './schemas.js';

/** One incompatibility between two neighbouring versions. */
export interface EvolutionProblem {
  readonly from: number;
  readonly to: number;
  /** `backward`: the new schema cannot read old data; `forward`: the old schema cannot read new data. */
  readonly direction: 'backward' | 'forward';
  readonly message: string;
}

/** Checks versions (oldest first, as [version, schema]) pairwise in both directions. */
export function checkEvolution(versions: readonly (readonly [number, avro.Schema])[]): EvolutionProblem[] {
  const problems: EvolutionProblem[] = [];
  for (let i = 1; i < versions.length; i++) {
    const prev = versions[i - 1];
    const next = versions[i];
    if (prev === undefined || next === undefined) continue;
    const [a, sa] = prev;
    const [b, sb] = next;
    const oldType = avroType(sa);
    const newType = avroType(sb);
    for (const [direction, reader, writer] of [
      ['backward', newType, oldType],
      ['forward', oldType, newType],
    ] as const) {
      try {
        reader.createResolver(writer);
      } catch (e) {
        problems.push({ from: a, to: b, direction, message: (e as Error).message });
      }
    }
  }
  return problems;
}
