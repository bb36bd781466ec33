import { sweepPart } from './sweep.ts';

sweepPart(1, 150);
