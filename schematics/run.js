'use strict';
/**
 * The scriptable form of the project's schematics, with every option as a flag (the nest CLI passes
 * none of a schematic's own flags through):
 *   npm run network:new -- <key> --chain-id N [--name S] [--native-symbol S] [--native-decimals N]
 *                          [--confirmations N] [--finality confirmations|finalized] [--block-time-ms N]
 *   npm run token:new -- <network> --address 0x… --symbol S --decimals N
 * Add --dry-run to see what would be written. Runs the same schematic as `nest g`, not interactive.
 */
const path = require('node:path');
const { parseArgs } = require('node:util');
const { createConsoleLogger } = require('@angular-devkit/core/node');
const { UnsuccessfulWorkflowExecution } = require('@angular-devkit/schematics');
const { NodeWorkflow } = require('@angular-devkit/schematics/tools');
const { lastValueFrom } = require('rxjs');

const FLAGS = {
  network: {
    'chain-id': 'chainId',
    name: 'displayName',
    'native-symbol': 'nativeSymbol',
    'native-decimals': 'nativeDecimals',
    confirmations: 'confirmations',
    finality: 'finality',
    'block-time-ms': 'blockTimeMs',
  },
  token: { address: 'address', symbol: 'symbol', decimals: 'decimals' },
};

async function main(argv) {
  const [schematic, ...rest] = argv;
  const flags = FLAGS[schematic];
  if (!flags)
    throw new Error(`usage: node schematics/run.js network|token <key> [--flags] (got "${schematic}")`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' }])),
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1)
    throw new Error(
      `give exactly one ${schematic === 'network' ? 'network key' : 'network'} (got ${positionals.length})`,
    );
  const options = { name: positionals[0] };
  for (const [flag, option] of Object.entries(flags))
    if (values[flag] !== undefined) options[option] = values[flag];

  const root = path.resolve(__dirname, '..');
  const dryRun = values['dry-run'];
  const logger = createConsoleLogger(false, process.stdout, process.stderr);
  const workflow = new NodeWorkflow(root, { dryRun, resolvePaths: [root], schemaValidation: true });
  const written = [];
  let failed = false;
  workflow.reporter.subscribe((event) => {
    if (event.kind === 'error') {
      failed = true;
      logger.error(`${event.description === 'alreadyExist' ? 'already exists' : 'missing'}: ${event.path}`);
    } else written.push(`${event.kind.toUpperCase()} ${event.path.replace(/^\//, '')}`);
  });
  await lastValueFrom(
    workflow.execute({
      collection: 'cdm-schematics',
      schematic,
      options,
      allowPrivate: false,
      debug: false,
      logger,
    }),
    { defaultValue: undefined },
  );
  if (failed) throw new Error('nothing written');
  for (const line of written) logger.info(line);
  if (dryRun) logger.info('Dry run: nothing written.');
}

main(process.argv.slice(2)).catch((error) => {
  if (!(error instanceof UnsuccessfulWorkflowExecution)) process.stderr.write(`Error: ${error.message}\n`);
  process.exitCode = 1;
});
