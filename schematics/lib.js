'use strict';
/**
 * What the network and token schematics share: validation, the migrations already written (so a
 * key, chain id or token is never added twice), writing a migration and registering it in
 * migrations/index.ts, formatted with the project's prettier settings.
 */
const path = require('node:path');
const { SchematicsException } = require('@angular-devkit/schematics');
const { keccak256 } = require('js-sha3');

const KEY_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Refusal: a message, and nothing written (the tree is only touched after every check). */
const refuse = (message) => new SchematicsException(message);

function checkKey(key) {
  if (typeof key !== 'string' || key.length > 64 || !KEY_PATTERN.test(key))
    throw refuse(
      `bad network key "${key}": use kebab-case, lower-case letters and digits, starting with a letter (e.g. base-sepolia)`,
    );
}

/** A whole number from a flag or an answer (string or number); undefined when not given. */
function wholeNumber(value, flag, { min, max } = {}) {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw refuse(`${flag} must be a whole number (got "${value}")`);
  const n = BigInt(text);
  if (min !== undefined && n < BigInt(min)) throw refuse(`${flag} must be at least ${min} (got ${text})`);
  if (max !== undefined && n > BigInt(max)) throw refuse(`${flag} must be at most ${max} (got ${text})`);
  return n;
}

/** kebab-case to camelCase, the naming of viem/chains exports: base-sepolia → baseSepolia. */
const camelCase = (key) => key.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
/** kebab-case to PascalCase, for class names: base-sepolia → BaseSepolia. */
const pascalCase = (key) => key.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
/** The environment variable of a network's endpoint (the key's '-' as '_'). */
const rpcUrlVariable = (key) => `RPC_URL_${key.toUpperCase().replaceAll('-', '_')}`;

/** The migrations already in the tree: their file names and what networks and tokens they add. */
function readMigrations(tree, dir) {
  const folder = tree.getDir(dir);
  const files = folder.subfiles.filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  const networks = new Map(); // key → chain id
  const tokens = new Set(); // `${key}:${address}`
  let lastTimestamp = 0;
  for (const file of files) {
    const stamp = Number(/^(\d+)-/.exec(file)?.[1] ?? 0);
    if (stamp > lastTimestamp) lastTimestamp = stamp;
    const text = tree.readText(path.posix.join(dir, file));
    // Seed rows `('devnet', 31337, …` and generated parameters `['base-sepolia', '84532', …`.
    for (const m of text.matchAll(/[([]\s*'([a-z0-9_-]+)',\s*'?(\d+)'?\s*,/g)) networks.set(m[1], m[2]);
    // Generated token parameters: ['devnet', '0x…', …
    for (const m of text.matchAll(/\[\s*'([a-z0-9_-]+)',\s*'(0x[0-9a-f]{40})'/g))
      tokens.add(`${m[1]}:${m[2]}`);
  }
  return { networks, tokens, lastTimestamp };
}

/** A timestamp after every existing migration's (they run in timestamp order). */
const nextTimestamp = (lastTimestamp) => Math.max(Date.now(), lastTimestamp + 1);

async function format(text, filepath) {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(path.resolve(filepath))) ?? {};
  return prettier.format(text, { ...options, filepath });
}

/** Adds `className` from `./${fileBase}.js` to migrations/index.ts: an import and the array's last entry. */
async function registerMigration(tree, dir, className, fileBase) {
  const indexPath = path.posix.join(dir, 'index.ts');
  const text = tree.readText(indexPath);
  const imports = [...text.matchAll(/^import .*;$/gm)];
  const lastImport = imports.at(-1);
  const arrayEnd = text.lastIndexOf('];');
  if (!lastImport || arrayEnd < 0 || !text.includes('export const MIGRATIONS'))
    throw refuse(`${indexPath} does not look like the migrations list (imports, then MIGRATIONS = [...])`);
  const importLine = `import { ${className} } from './${fileBase}.js';`;
  const afterImport = lastImport.index + lastImport[0].length;
  const body = text.slice(0, arrayEnd).trimEnd();
  const withEntry = `${body}${body.endsWith(',') || body.endsWith('[') ? '' : ','}\n  ${className},\n${text.slice(arrayEnd)}`;
  const updated = `${withEntry.slice(0, afterImport)}\n${importLine}${withEntry.slice(afterImport)}`;
  tree.overwrite(indexPath, await format(updated, indexPath));
}

/** EIP-55: a mixed-case address must match its checksum; returns the lower-case address. */
function checkAddress(address) {
  if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address))
    throw refuse(`--address must be a 0x-prefixed 20-byte hex address (got "${address}")`);
  const hex = address.slice(2);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase()) {
    const hash = keccak256(hex.toLowerCase());
    const checksummed = [...hex.toLowerCase()]
      .map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c))
      .join('');
    if (checksummed !== hex) throw refuse(`--address ${address} fails its EIP-55 checksum`);
  }
  return address.toLowerCase();
}

/** A string literal for generated TypeScript (single quotes, as prettier wants them). */
const literal = (value) => `'${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

module.exports = {
  KEY_PATTERN,
  refuse,
  checkKey,
  wholeNumber,
  camelCase,
  pascalCase,
  rpcUrlVariable,
  readMigrations,
  nextTimestamp,
  format,
  registerMigration,
  checkAddress,
  literal,
};
