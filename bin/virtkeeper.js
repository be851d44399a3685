#!/usr/bin/env node
// The package's bin. A checkout runs the TypeScript sources (Node.js strips their types, no build
// step); the published package holds only the JavaScript compiled into dist/ on `prepack`, since
// Node.js does not strip types under node_modules.
import { existsSync } from 'node:fs';

const source = new URL('../controller/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/controller/cli/main.js', import.meta.url);
const entry = existsSync(source) && process.features.typescript ? source : compiled;
if (existsSync(entry)) {
  const { main } = await import(entry.href);
  await main(process.argv);
} else {
  process.stderr.write(`error: ${entry.pathname} is missing: in a checkout, run \`npm run build\` or use Node.js >= 22.19 with type stripping on [VK_PACKAGE_INCOMPLETE]\n`);
  process.exitCode = 1;
}
