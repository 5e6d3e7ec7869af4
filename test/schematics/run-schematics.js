/**
 * Runs the project's schematics with SchematicTestRunner on an in-memory tree holding the real
 * migrations/ and .env.example, in a plain Node process: jest's module registry cannot load the
 * schematics engine (it require()s an ES module), Node does, as for the nest CLI.
 *
 * stdin: JSON `[[{ schematic, options }, …], …]` — cases, each a list of steps run in order on its
 * own fresh tree. stdout: JSON, per case, per step: `{ files }` (the tree's files that differ from
 * the project's, with their text) or `{ error, unchanged }` (the refusal's message, and whether the
 * tree was left as it was). A case stops at its first refusal.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { HostTree } from '@angular-devkit/schematics';
import { SchematicTestRunner } from '@angular-devkit/schematics/testing/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const runner = new SchematicTestRunner('cdm-schematics', path.join(root, 'schematics/collection.json'));

async function projectFiles() {
  const files = new Map();
  for (const file of await readdir(path.join(root, 'migrations')))
    files.set(`/migrations/${file}`, await readFile(path.join(root, 'migrations', file), 'utf8'));
  files.set('/.env.example', await readFile(path.join(root, '.env.example'), 'utf8'));
  return files;
}

function snapshot(tree) {
  const files = new Map();
  tree.visit((file) => files.set(file, tree.readText(file)));
  return files;
}

async function runCase(steps, project) {
  let tree = new HostTree();
  for (const [file, text] of project) tree.create(file, text);
  const results = [];
  for (const { schematic, options } of steps) {
    const before = snapshot(tree);
    try {
      tree = await runner.runSchematic(schematic, options, tree);
      const files = Object.fromEntries([...snapshot(tree)].filter(([f, text]) => project.get(f) !== text));
      results.push({ files });
    } catch (error) {
      const after = snapshot(tree);
      const unchanged = after.size === before.size && [...after].every(([f, text]) => before.get(f) === text);
      results.push({ error: error.message, unchanged });
      break;
    }
  }
  return results;
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const project = await projectFiles();
const out = [];
for (const steps of JSON.parse(input)) out.push(await runCase(steps, project));
process.stdout.write(JSON.stringify(out));
