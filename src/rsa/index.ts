/**
 * RSA and topological RSA: RDMs (rdm.ts), comparators (compare.ts), geo-topological transforms
 * and geodesic RDMs (topological.ts), inference (inference.ts), condensed-vector helpers.
 */
export * from './condensed.js';
export { argsort, rankdata, rankWithOffset, quantileSorted } from './stats.js';
export * from './rdm.js';
export * from './compare.js';
export * from './topological.js';
export * from './inference.js';
