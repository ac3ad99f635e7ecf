#!/usr/bin/env node
// Entry point of the `trit` command: runs the TypeScript sources through tsx,
// so the command works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli/main.ts');
const code = await main(process.argv.slice(2));
// Dawn keeps the event loop alive after the device is released.
process.exit(code);
