import { initBackend, selectBackend } from './src/backend/select.js';
import { computeRdm } from './src/rsa/rdm.js';
import { Rng } from './src/backend/rng.js';
const t0 = performance.now(); const log = (s: string) => console.error(`${((performance.now()-t0)/1000).toFixed(1)}s ${s}`);
const b = await initBackend(); log(b.name);
const x = { data: new Rng(1).normalArray(200*40), rows: 200, cols: 40 };
await selectBackend(process.argv[2]); log(process.argv[2]);
const r = await computeRdm(x, { method: 'cosine' }); log('rdm ' + r.length);
