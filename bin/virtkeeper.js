#!/usr/bin/env node
// The package's bin: runs the CLI from its TypeScript source (Node >= 22.19 strips types).
import { main } from '../controller/cli/main.ts';

await main(process.argv);
