#!/usr/bin/env node
// The `keel` command. The sources are TypeScript run through tsx (no build step, no reliance on
// Node's own type stripping, which Node 20 lacks).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
