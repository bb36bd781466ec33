import { sweepPart } from './sweep.ts';

sweepPart('keel', 1, 100);
