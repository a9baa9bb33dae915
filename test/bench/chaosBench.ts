// The long chaos run: `npm run bench:chaos` (NKVM_CHAOS_KILLS, default 50; NKVM_CHAOS_SEED to replay a run).
// Prints the counts of what a run of killed nkvm processes left behind; exits 1 when anything was.
import { runChaos } from '../chaos/chaosRun';

const kills = Number(process.env['NKVM_CHAOS_KILLS'] ?? 50);
const seed = Number(process.env['NKVM_CHAOS_SEED'] ?? Date.now() % 1_000_000);
const leaseSeconds = Number(process.env['NKVM_CHAOS_LEASE_SECONDS'] ?? 8);

async function main(): Promise<number> {
  const started = Date.now();
  const counts = await runChaos({ kills, seed, leaseSeconds, log: (line) => process.stdout.write(`${line}\n`) });
  const f = counts.findings;
  const rows: [string, string | number][] = [
    ['seed', counts.seed],
    ['rounds', counts.rounds],
    ['nkvm processes', counts.processes],
    ['SIGKILLs', counts.kills],
    ['faults injected', Object.entries(counts.faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
    ['process exits', Object.entries(counts.exits).map(([k, v]) => `${k} x${v}`).join(', ')],
    ['helpers ended after last kill (s)', counts.helpersEndedAfterSeconds],
    ['history integrity_check', f.historyIntegrity],
    ['success rows / with a bad archive', `${f.successRows} / ${f.successRowsWithBadArchive.length}`],
    ['archives under final names / broken', `${f.finalArchives} / ${f.brokenArchives.length}`],
    [`helpers running after lease (${leaseSeconds} s) + 30 s`, f.helpersRunning.length],
    ['stale .partial files after the next run', f.stalePartials.length],
    ['rows stuck running / marked interrupted', `${f.rowsStuckRunning} / ${f.interruptedRows}`],
    ['wall time (s)', Math.round((Date.now() - started) / 1000)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  for (const detail of [...f.successRowsWithBadArchive, ...f.brokenArchives, ...f.helpersRunning, ...f.stalePartials]) process.stdout.write(`  ${detail}\n`);
  const clean =
    f.historyIntegrity === 'ok' &&
    !f.successRowsWithBadArchive.length &&
    !f.brokenArchives.length &&
    !f.helpersRunning.length &&
    !f.stalePartials.length &&
    f.rowsStuckRunning === 0;
  return clean ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
    process.exit(2);
  },
);
