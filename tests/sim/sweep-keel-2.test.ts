import { sweepPart } from './sweep.ts';

sweepPart('keel', 101, 100);
