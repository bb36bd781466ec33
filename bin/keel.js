#!/usr/bin/env node
// The `keel` command. Sources are TypeScript, loaded through bin/ts-hooks.mjs (esbuild strips the
// types; no build step, no reliance on Node's own type stripping, which Node 20 lacks).
import './register-ts.mjs';

await import('../cli/main.ts');
