import { sweepPart } from './sweep.ts';

sweepPart(151, 150);
