// `node --import ./bin/register-ts.mjs file.ts`: installs the TypeScript load hook (bin/ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
process.setSourceMapsEnabled(true);
