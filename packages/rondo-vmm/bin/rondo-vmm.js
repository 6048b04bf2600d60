#!/usr/bin/env node
// Entry point of the `rondo-vmm` executable; the code lives in dist/ (built by `npm ci`).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
