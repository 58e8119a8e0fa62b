/** Every hostile case against the docker sandbox (the suite: ./helpers/hostile-suite.ts). */
import { hostileSuite } from './helpers/hostile-suite.js';

await hostileSuite('docker');
