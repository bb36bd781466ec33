import { sweepPart } from './sweep.ts';

sweepPart('raft', 1001, 150);
