/**
 * The short soak in CI (test/reliability/soak.ts): 1000 records through two exactly-once workers
 * with 3 SIGKILLs and one broker restart on its own data; fails when any record is lost or any output
 * duplicated.
 * `npm run soak` runs this same test with the SOAK_* knobs for bigger runs.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak, soakOptionsFromEnv } from '../reliability/soak.js';

const options = soakOptionsFromEnv();

describe('soak', () => {
  it(
    `${options.docs} records, ${options.kills} worker kills, ${options.outage ? 1 : 0} broker outage: nothing lost or duplicated`,
    async () => {
      const report = await runSoak(options, (s) => process.stdout.write(`${s}\n`));
      process.stdout.write(`${formatReport(report)}\n`);
      expect(report.problems.filter((p) => p.startsWith('timed out'))).toEqual([]);
      expect(report.lost).toBe(0);
      // Exactly-once: nothing twice. At-least-once (SOAK_DELIVERY): replays allowed, byte-identical.
      if (options.delivery === 'exactly-once') expect(report.duplicated).toBe(0);
      expect(report.replaysDiffering).toBe(0);
      expect(report.extra).toBe(0);
      expect(report.disagreeing).toBe(0);
      expect(report.kills).toBe(options.kills);
    },
    (options.maxSeconds + 60) * 1000,
  );
});
