/**
 * The image cannot be built here (no container engine), so this replays deploy/Dockerfile without one:
 * the build context through Dockerfile.dockerignore, the build stage's RUN lines as written (apt-get
 * aside: tini comes from Debian), the runtime stage's `COPY --from=build` lines into a root filesystem,
 * which is then made read-only and runs the CMD as uid 65532 (when the test runs as root) with only a
 * writable TMPDIR. It proves the runtime layout: the production node_modules resolve, the workspace
 * links land on copied packages, the schemas and the default tokenizer are where the code looks, and the
 * worker starts, serves /healthz and /metrics, and stops on SIGTERM. What it cannot prove: the base
 * images, tini as PID 1, apt pinning, BuildKit cache mounts.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIgnored, parseCopy, parseDockerfile } from './dockerfile.js';
import { ROOT } from './support.js';

const stages = parseDockerfile();
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages[stages.length - 1]!;
const work = mkdtempSync(join(tmpdir(), 'chunkline-image-'));
const context = join(work, 'src');
const rootfs = join(work, 'rootfs');
const writableTmp = join(work, 'tmp');
const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').pop()!.args;
const app = join(rootfs, workdir);
const skipped: string[] = [];

/** Files the build context would hold: tracked and untracked-but-not-gitignored, minus the dockerignore. */
function contextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)) && !isIgnored(f));
}

function stageContext(): void {
  const files = contextFiles();
  for (const ins of build.instructions.filter((i) => i.keyword === 'COPY')) {
    const { from, sources } = parseCopy(ins.args);
    if (from !== undefined) continue;
    for (const source of sources) {
      const prefix = source.replace(/\/$/, '');
      for (const f of files.filter((f) => f === prefix || f.startsWith(`${prefix}/`))) {
        mkdirSync(dirname(join(context, f)), { recursive: true });
        cpSync(join(ROOT, f), join(context, f));
      }
    }
  }
}

/**
 * The environment of the replayed RUN lines: this process's, minus the npm_* variables an enclosing
 * `npm test` sets (npm_config_* would act as npm options inside the build), keeping where npm caches.
 */
function buildEnv(): Record<string, string | undefined> {
  const keep = new Set(['npm_config_cache', 'npm_config_registry']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || keep.has(k)));
}

function runBuildStage(): void {
  for (const ins of build.instructions.filter((i) => i.keyword === 'RUN')) {
    const command = ins.args.replace(/^(--\S+\s+)+/, '');
    if (/\bapt-get\b/.test(command)) {
      skipped.push(`Dockerfile:${ins.line} ${command.slice(0, 60)}…`);
      continue;
    }
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
      cwd: context,
      encoding: 'utf8',
      env: { ...buildEnv(), npm_config_update_notifier: 'false' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) {
      throw new Error(`Dockerfile:${ins.line} ${command}\nexit ${run.status}\n${run.stdout}\n${run.stderr}`);
    }
  }
}

function assembleRuntime(): void {
  for (const ins of runtime.instructions.filter((i) => i.keyword === 'COPY')) {
    const { from, sources, dest } = parseCopy(ins.args);
    if (from !== 'build') throw new Error(`Dockerfile:${ins.line}: only COPY --from=build is replayed`);
    for (const source of sources) {
      if (!source.startsWith('/src/')) {
        skipped.push(`Dockerfile:${ins.line} COPY ${source} (from the Debian package)`);
        continue;
      }
      const target = isAbsolute(dest) ? join(rootfs, dest) : join(app, dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(context, source.slice('/src/'.length)), target, { recursive: true, verbatimSymlinks: true });
    }
  }
}

/** Read-only for everyone, directories traversable: what a read-only root filesystem gives uid 65532. */
function makeReadOnly(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (!entry.isSymbolicLink()) makeReadOnly(join(path, entry.name));
    }
    chmodSync(path, 0o555);
  } else chmodSync(path, st.mode & 0o111 ? 0o555 : 0o444);
}

const env = (extra: Record<string, string>): Record<string, string> => {
  const fromImage = Object.fromEntries(
    runtime.instructions
      .filter((i) => i.keyword === 'ENV')
      .map((i) => /^(\w+)=(\S+)$/.exec(i.args)!)
      .map((m) => [m[1]!, m[2]!]),
  );
  return { PATH: '/usr/bin:/bin', HOME: writableTmp, TMPDIR: writableTmp, ...fromImage, ...extra };
};

const asImageUser = process.getuid?.() === 0 ? { uid: 65532, gid: 65532 } : {};
const cmd = JSON.parse(runtime.instructions.filter((i) => i.keyword === 'CMD').pop()!.args) as string[];

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

beforeAll(() => {
  stageContext();
  runBuildStage();
  assembleRuntime();
  mkdirSync(writableTmp, { mode: 0o777 });
  chmodSync(writableTmp, 0o1777);
  makeReadOnly(rootfs);
  // mkdtemp made `work` 0700; the image user must be able to reach rootfs and the writable tmp.
  chmodSync(work, 0o755);
}, 600_000);

afterAll(() => {
  if (existsSync(rootfs)) spawnSync('chmod', ['-R', 'u+w', rootfs]);
  rmSync(work, { recursive: true, force: true });
});

describe('deploy/Dockerfile replayed without a container engine', () => {
  it('says what it could not replay', () => {
    expect(skipped.some((s) => s.includes('apt-get'))).toBe(true);
    expect(skipped.some((s) => s.includes('tini'))).toBe(true);
  });

  it('keeps production dependencies of the worker only', () => {
    const modules = join(app, 'node_modules');
    for (const dep of ['kafkajs', 'avsc', 'prom-client', 'pino', 'zod', '@huggingface/transformers']) {
      expect(existsSync(join(modules, dep)), dep).toBe(true);
    }
    for (const dev of ['typescript', 'vitest', 'eslint', 'testcontainers', 'kubernetes-models', 'commander']) {
      expect(existsSync(join(modules, dev)), dev).toBe(false);
    }
    const linked = readdirSync(join(modules, '@chunkline')).sort();
    expect(linked).toEqual(['chunker', 'chunking', 'observability', 'records', 'runtime', 'tokenizers']);
    for (const l of linked)
      expect(existsSync(join(modules, '@chunkline', l, 'dist')), `@chunkline/${l} resolves`).toBe(true);
    const ort = readdirSync(join(modules, 'onnxruntime-node/bin')).flatMap((napi) =>
      readdirSync(join(modules, 'onnxruntime-node/bin', napi)),
    );
    expect([...new Set(ort)]).toEqual(['linux']);
  });

  it('ships only the default tokenizer', () => {
    expect(readdirSync(join(app, 'packages/tokenizers/assets'))).toEqual(['bert-base-uncased']);
  });

  it('refuses to start without KAFKA_BROKERS (exit 2, naming the variable)', () => {
    const run = spawnSync(process.execPath, cmd, { cwd: app, env: env({}), encoding: 'utf8', ...asImageUser });
    expect(run.stderr).toMatch(/KAFKA_BROKERS/);
    expect(run.status).toBe(2);
  });

  it('starts from the read-only tree as uid 65532, serves /healthz and /metrics, stops on SIGTERM', async () => {
    const httpPort = await freePort();
    const brokerPort = await freePort(); // nothing listens there: the worker keeps trying to connect
    const child = spawn(process.execPath, cmd, {
      cwd: app,
      env: env({
        KAFKA_BROKERS: `127.0.0.1:${brokerPort}`,
        CHUNKLINE_HTTP_HOST: '127.0.0.1',
        CHUNKLINE_HTTP_PORT: String(httpPort),
        CHUNKLINE_SHUTDOWN_TIMEOUT_MS: '5000',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asImageUser,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(signal ?? `exit ${code}`)));
    try {
      let health: Response | undefined;
      for (let i = 0; i < 100 && health === undefined; i++) {
        health = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
        if (health === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(health?.status, output).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^chunkline_ready 0$/m);
      expect(metrics).toMatch(/^chunkline_process_resident_memory_bytes /m);
      expect(output).toMatch(/"tokenizer":"bert-base-uncased"/);
      expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(503);
      child.kill('SIGTERM');
      const end = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
      // The worker installs its SIGTERM handler once it has joined the group (services/chunker main.ts);
      // here it is still connecting, so the signal's default action ends it: nothing was in flight.
      // The graceful path (exit 0 after the transaction in flight) is tested against a real broker in
      // test/integration.
      expect(['exit 0', 'SIGTERM'], output).toContain(end);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
