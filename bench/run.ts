/**
 * `npm run bench`: runs every benchmark section (not part of the test suite), writes a dated report
 * to bench/results/ and, for a whole run (no BENCH_ONLY, BENCH_SCALE, BENCH_MONITOR_PARTS,
 * BENCH_LATENCY_BLOCKS or BENCH_CPU_PROFILE), refreshes the summary in BENCHMARKS.md.
 *
 *   BENCH_ONLY=monitor,alerts   run only these sections
 *   BENCH_SCALE=0.2             shrink sizes for a quick run (the report says so)
 *   BENCH_MONITOR_PARTS=latency  only these parts of the monitor section (latency, busy, backfill, memory)
 *   BENCH_BACKFILL_RUNS=5       catch up the same blocks 5 times (fresh database copy each), report the median
 *   BENCH_LATENCY_BLOCKS=1000   blocks in the monitor's latency part (default 200): a steadier p99
 *   BENCH_CPU_PROFILE=dir       write V8 CPU profiles of the monitor's latency run (dir/latency.cpuprofile)
 *                               and of each catch-up run (dir/backfill-<n>.cpuprofile)
 *   BENCH_DATABASE_URL=…        PostgreSQL server to use (default: TEST_DATABASE_URL, else embedded)
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { BenchContext, BenchSection, BenchSectionRunner } from './bench-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Sources live in bench/, compiled files in dist/bench/: results go to the source tree. */
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
const SECTIONS = ['chain', 'monitor', 'realtime', 'alerts', 'webhooks'];

async function databaseServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (url) return { url, stop: async () => undefined };
  const { startEmbeddedPostgres } = await import('../src/database/embedded-postgres.js');
  const { freePort } = await import('../test/helpers/process.js');
  // A throwaway cluster on a port the OS says is free (a fixed range could be in use, e.g. by
  // another process's outgoing connections), removed after the run.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-bench-pg-'));
  // Run as root, PostgreSQL runs as another user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({
    dir: path.join(dir, 'data'),
    port: await freePort(),
    database: 'postgres',
    log: (message) => console.error(`  [embedded PostgreSQL] ${message.trim()}`),
  });
  return {
    url: embedded.url,
    stop: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fixed single-threaded workload (JSON.parse of a 200-trace `trace_block` answer, as the monitor
 * does per block, and SHA-256), median of 5, in ms. The same machine type has been seen to run
 * twice as fast one day as another: compare runs (and their targets) with this figure beside them.
 */
function cpuReference(): number {
  const trace = {
    action: {
      from: `0x${'a'.repeat(40)}`,
      callType: 'call',
      gas: '0x0',
      input: '0x',
      to: `0x${'b'.repeat(40)}`,
      value: '0x1',
    },
    blockHash: `0x${'c'.repeat(64)}`,
    blockNumber: 1,
    result: { gasUsed: '0x0', output: '0x' },
    subtraces: 0,
    traceAddress: [],
    transactionHash: `0x${'d'.repeat(64)}`,
    transactionPosition: 0,
    type: 'call',
  };
  const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: Array.from({ length: 200 }, () => trace) });
  const data = Buffer.alloc(1 << 20, 7);
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    for (let i = 0; i < 300; i++) JSON.parse(text);
    for (let i = 0; i < 64; i++) createHash('sha256').update(data).digest();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2];
}

function table(section: BenchSection): string {
  const lines = ['| metric | value | target | met |', '| --- | --- | --- | --- |'];
  for (const row of section.rows) {
    const met = row.pass === undefined ? '' : row.pass ? 'yes' : '**no**';
    lines.push(`| ${row.metric} | ${row.value} | ${row.target ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  if (!(scale > 0 && scale <= 1)) throw new Error('BENCH_SCALE must be in (0, 1]');
  const startedAt = new Date().toISOString();
  const date = startedAt.slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const reference = cpuReference();
  console.log(`CPU reference workload: ${reference.toFixed(0)} ms`);
  const server = await databaseServer();
  const ctx: BenchContext = {
    databaseServerUrl: server.url,
    scale,
    log: (message) => console.log(`  ${message}`),
  };

  const results: BenchSection[] = [];
  try {
    for (const name of SECTIONS) {
      if (only && !only.includes(name)) continue;
      const file = path.join(here, `${name}.bench.js`);
      if (!existsSync(file)) {
        results.push({ title: name, rows: [], notes: [`not run: ${name}.bench.js does not exist`] });
        continue;
      }
      console.log(`== ${name}`);
      const started = Date.now();
      try {
        const module = (await import(pathToFileURL(file).href)) as { run: BenchSectionRunner };
        const section = await module.run(ctx);
        section.notes = [
          ...(section.notes ?? []),
          `section took ${((Date.now() - started) / 1000).toFixed(1)} s`,
        ];
        results.push(section);
        console.log(table(section));
      } catch (error) {
        console.error(error);
        results.push({ title: name, rows: [], notes: [`FAILED: ${(error as Error).message}`] });
      }
    }
  } finally {
    await server.stop();
  }

  const after = cpuReference();
  const header =
    `Machine: ${machine}. Date: ${date}.${scale === 1 ? '' : ` Scale: ${scale} (sizes reduced).`}` +
    ` CPU reference workload (bench/run.ts cpuReference; lower is faster): ${reference.toFixed(0)} ms before, ${after.toFixed(0)} ms after.`;
  const body = results
    .map((s) =>
      [`### ${s.title}`, '', s.rows.length ? table(s) : '', '', ...(s.notes ?? []).map((n) => `- ${n}`)].join(
        '\n',
      ),
    )
    .join('\n\n');
  const resultsDir = path.join(root, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  // Date and UTC start time: a second run the same day gets its own report.
  const time = startedAt.slice(11, 16).replace(':', '');
  const reportFile = path.join(resultsDir, `${date}-${time}-${os.hostname()}.md`);
  await writeFile(reportFile, `# Benchmark report\n\n${header}\n\n${body}\n`);

  // Only a whole run stands for the machine: a partial one (some sections or parts, reduced
  // sizes, a profiler attached) would replace the summary of every section with its few.
  const partial = [
    only && `BENCH_ONLY=${only.join(',')}`,
    scale !== 1 && `BENCH_SCALE=${scale}`,
    process.env.BENCH_MONITOR_PARTS && `BENCH_MONITOR_PARTS=${process.env.BENCH_MONITOR_PARTS}`,
    process.env.BENCH_CPU_PROFILE && 'BENCH_CPU_PROFILE',
    process.env.BENCH_LATENCY_BLOCKS && `BENCH_LATENCY_BLOCKS=${process.env.BENCH_LATENCY_BLOCKS}`,
  ].filter(Boolean);
  if (partial.length > 0) {
    console.log(
      `\nwrote ${path.relative(root, reportFile)}; BENCHMARKS.md left as it is (a partial run: ${partial.join(' ')})`,
    );
    return;
  }
  const benchmarksFile = path.join(root, 'BENCHMARKS.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const summary = `${start}\n${header} Report: \`bench/results/${path.basename(reportFile)}\`.\n\n${body}\n${end}`;
  const existing = existsSync(benchmarksFile) ? await readFile(benchmarksFile, 'utf8') : '';
  const next = existing.includes(start)
    ? existing.replace(new RegExp(`${start}[\\s\\S]*${end}`), summary)
    : `${existing}\n${summary}\n`;
  await writeFile(benchmarksFile, next);
  console.log(`\nwrote ${path.relative(root, reportFile)} and BENCHMARKS.md`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
