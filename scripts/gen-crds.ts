// Regenerates crds/ from the schemas in controller/api (test/api/crds.test.ts fails on drift).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdFiles } from '../controller/api/crd-yaml.ts';

const dir = join(import.meta.dirname, '..', 'crds');
mkdirSync(dir, { recursive: true });
for (const { file, text } of crdFiles()) writeFileSync(join(dir, file), text);
console.log(`wrote ${crdFiles().length} CRDs to ${dir}`);
