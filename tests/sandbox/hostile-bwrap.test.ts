/** Every hostile case against the bwrap sandbox (the suite: ./helpers/hostile-suite.ts). */
import { hostileSuite } from './helpers/hostile-suite.js';

await hostileSuite('bwrap');
