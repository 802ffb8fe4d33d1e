#!/usr/bin/env node
/**
 * The security checks of test/reliability/secure-checks.mjs (the same scenarios and pass rules as
 * test/integration/security.test.ts, which runs them in CI), printed as the table of RELIABILITY.md:
 * right credentials; a wrong password; no CA file; another CA. Starts its own SASL_SSL broker with
 * secure-kafka.sh on SECURE_KAFKA_PORT (default 19192, and the next two ports) and stops it at the end.
 * Exits 1 on any failed check. Run: npm run reliability:security (builds first).
 * SECURITY_SHOW_LOGS=1 also prints the worker lines of the refused scenarios.
 */
import {
  acceptedChecks,
  otherCaFile,
  rejectedChecks,
  runAccepted,
  runRejected,
  setUpTopics,
  startSecureBroker,
} from './secure-checks.mjs';

const DOCUMENTS = 5;
const broker = await startSecureBroker(Number(process.env.SECURE_KAFKA_PORT ?? '19192'));
const otherCa = await otherCaFile();
const sections = [];
let failed = false;
try {
  const topics = await setUpTopics(broker, DOCUMENTS);
  const wrong = `wrong-${broker.password.slice(0, 6)}`;
  const [accepted, wrongPassword, noCa, anotherCa] = await Promise.all([
    runAccepted(broker, topics, DOCUMENTS),
    runRejected(broker, topics, { password: wrong, caFile: broker.caFile }),
    runRejected(broker, topics, { password: broker.password, caFile: undefined }),
    runRejected(broker, topics, { password: broker.password, caFile: otherCa.file }),
  ]);
  sections.push(
    ['right password and CA', acceptedChecks(accepted, broker.password), undefined],
    ['wrong password', rejectedChecks(wrongPassword, 'authentication', [broker.password, wrong]), wrongPassword],
    ['no CA file', rejectedChecks(noCa, 'tls', [broker.password]), noCa],
    ['another CA', rejectedChecks(anotherCa, 'tls', [broker.password]), anotherCa],
  );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  otherCa.remove();
  await broker.stop();
}
console.log('| scenario | check | result |\n|---|---|---|');
for (const [scenario, rows, obs] of sections) {
  for (const r of rows)
    console.log(`| ${scenario} | ${r.name} | ${r.ok ? 'ok' : 'FAIL'}: ${r.detail.replaceAll('|', '\\|')} |`);
  if (process.env.SECURITY_SHOW_LOGS === '1' && obs !== undefined) {
    for (const l of obs.lines) console.log(`    ${l.text}`);
  }
  failed ||= rows.some((r) => !r.ok);
}
process.exit(failed ? 1 : 0);
