'use strict';
const { schematic } = require('@angular-devkit/schematics');
const { camelCase, checkKey, readMigrations, refuse } = require('../lib.js');

/** About 2.4 minutes of blocks (12 on Ethereum), at least 3 and at most 128. */
const defaultConfirmations = (blockTimeMs) =>
  String(Math.min(128, Math.max(3, Math.ceil(144_000 / Number(blockTimeMs)))));

/** The chain of viem/chains that `key` names in camelCase (base-sepolia → baseSepolia), if any. */
function presetFor(key) {
  const chains = require('viem/chains');
  const exportName = camelCase(key);
  const chain = Object.prototype.hasOwnProperty.call(chains, exportName) ? chains[exportName] : undefined;
  if (!chain || typeof chain.id !== 'number' || !chain.nativeCurrency) return undefined;
  return { exportName, chain };
}

/**
 * `nest g network <key>` / `npm run network:new -- <key> …`: presets from viem/chains when the key
 * names a chain there (given flags win), then the network-details schematic, which asks for (or,
 * without a terminal, refuses for lack of) whatever is still missing and writes the files.
 */
function network(options) {
  return (tree, context) => {
    const key = options.name;
    checkKey(key);
    const dir = options.migrationsDir ?? 'migrations';
    if (readMigrations(tree, dir).networks.has(key))
      throw refuse(`network "${key}" already exists (in ${dir}/)`);
    const found = presetFor(key);
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && v !== ''));
    if (!found) {
      context.logger.info(`"${key}" is no chain of viem/chains (${camelCase(key)}): its details are needed.`);
      return schematic('network-details', given);
    }
    const { exportName, chain } = found;
    const blockTimeMs = given.blockTimeMs ?? (chain.blockTime ? String(chain.blockTime) : undefined);
    if (!blockTimeMs)
      context.logger.warn(
        `viem gives no block time for ${exportName}: using 12000 ms (pass --block-time-ms)`,
      );
    const preset = {
      chainId: String(chain.id),
      displayName: chain.name,
      nativeSymbol: chain.nativeCurrency.symbol,
      nativeDecimals: String(chain.nativeCurrency.decimals),
      blockTimeMs: blockTimeMs ?? '12000',
      finality: 'confirmations',
    };
    preset.confirmations = defaultConfirmations(preset.blockTimeMs);
    return schematic('network-details', { ...preset, ...given, preset: exportName });
  };
}

module.exports = { network, defaultConfirmations };
