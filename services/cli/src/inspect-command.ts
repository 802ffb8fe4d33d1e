/** `chunkline inspect FILE.avro`: the records of an Avro container file as JSON lines on stdout. */
import { readContainer } from '@chunkline/records';
import type { CliIo } from './io.js';
import { jsonLine } from './jsonl-writer.js';

/** Prints every record; returns 0, or 1 when the file cannot be read as an Avro container file. */
export async function runInspectCommand(file: string, io: CliIo): Promise<number> {
  let count = 0;
  try {
    for await (const record of readContainer(file)) {
      io.stdout.write(jsonLine(record));
      count++;
    }
  } catch (err) {
    io.stderr.write(`error: ${file}: not a readable Avro container file (${(err as Error).message})\n`);
    return 1;
  }
  if (count === 0) io.stderr.write(`${file}: no records\n`);
  return 0;
}
