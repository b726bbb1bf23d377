import { Simulation, SimFailure } from './simulation';

/**
 * `npm run test:sim -- --seeds N --start S [--steps K] [--trace]`: runs seeds S..S+N-1 and prints
 * a replay command for every seed that fails.
 */
interface Args {
  seeds: number;
  start: number;
  steps: number;
  trace: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 2000, start: 1, steps: 150, trace: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer`);
      return v;
    };
    if (flag === '--seeds') args.seeds = value();
    else if (flag === '--start') args.start = value();
    else if (flag === '--steps') args.steps = value();
    else if (flag === '--trace') args.trace = true;
    else throw new Error(`unknown argument ${flag} (expected --seeds N --start S [--steps K] [--trace])`);
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let passed = 0;
  let failed = 0;
  let conflicts = 0;
  let merges = 0;
  let crashes = 0;
  let folderOps = 0;
  let pauses = 0;
  let maxRounds = 0;
  const began = Date.now();
  for (let seed = args.start; seed < args.start + args.seeds; seed++) {
    const lines: string[] = [];
    const sim = new Simulation({ seed, steps: args.steps, trace: (l) => (args.trace ? console.log(l) : lines.push(l)) });
    try {
      const outcome = await sim.run();
      passed++;
      conflicts += outcome.conflicts;
      merges += outcome.merges;
      crashes += outcome.crashes;
      folderOps += outcome.folderOps;
      pauses += outcome.pauses;
      maxRounds = Math.max(maxRounds, outcome.settleRounds);
    } catch (err) {
      failed++;
      const message = err instanceof SimFailure ? err.message : `seed ${seed}: ${(err as Error).stack ?? String(err)}`;
      console.error(`FAIL ${message}`);
      if (!args.trace) console.error(lines.slice(-40).join('\n'));
      console.error(`replay: npm run test:sim -- --seeds 1 --start ${seed} --steps ${args.steps} --trace`);
    }
    if ((seed - args.start + 1) % 500 === 0) console.log(`... ${seed - args.start + 1} seeds`);
  }
  const secs = ((Date.now() - began) / 1000).toFixed(1);
  console.log(
    `simulation: seeds ${args.start}..${args.start + args.seeds - 1}, ${conflicts} conflict copies, ${merges} merged, ${crashes} crashes, ` +
      `${folderOps} folder swaps and emptied roots, ${pauses} pauses on deletes, ` +
      `at most ${maxRounds} settle rounds, ${secs} s`,
  );
  console.log(`sim: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
