import { sweepPart } from './sweep.ts';

sweepPart('keel', 201, 100);
