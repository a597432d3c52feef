/**
 * nestlab's layers, bottom to top (ARCHITECTURE.md). A module may import from its own folder and
 * from any lower layer, never from a higher one, and the folders of one layer never import each
 * other. Type-only imports count too. `npm test` runs this check (test/architecture.test.ts).
 */
const LAYERS = [
  ['errors'], // src/errors.ts
  ['math'],
  ['backend'],
  ['data'],
  ['similarity'],
  ['models', 'sae', 'rsa', 'topology', 'lm'],
  ['plot'],
  ['report'],
  ['workflows'],
  ['experiments'],
  ['api', 'index', 'cli', 'notebooks'], // the public API and the entry points
];

/** A path regex for a layer member: a folder under src/, or a file src/<name>.ts. */
const pathOf = (name) => `^src/${name}(/|\\.ts$)`;
const anyOf = (names) => `(${names.map(pathOf).join('|')})`;

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'Modules must not depend on each other in a circle (type-only imports included).',
    from: { path: '^src/' },
    to: { circular: true },
  },
];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (above.length > 0) {
    forbidden.push({
      name: `no-upward-from-layer-${i}`,
      severity: 'error',
      comment: `${layer.join(', ')} (layer ${i}) must not import from a higher layer (${above.join(', ')}).`,
      from: { path: anyOf(layer) },
      to: { path: anyOf(above) },
    });
  }
  for (const member of layer) {
    const peers = layer.filter((p) => p !== member);
    if (peers.length === 0 || i === LAYERS.length - 1) continue;
    forbidden.push({
      name: `no-peer-import-${member}`,
      severity: 'error',
      comment: `${member} must not import its peers of layer ${i} (${peers.join(', ')}): move what they share down a layer.`,
      from: { path: pathOf(member) },
      to: { path: anyOf(peers) },
    });
  }
});
forbidden.push({
  name: 'no-unlayered-module',
  severity: 'error',
  comment: 'Every module under src/ belongs to a layer listed in .dependency-cruiser.cjs.',
  from: { path: '^src/', pathNot: anyOf(LAYERS.flat()) },
  to: {},
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    moduleSystems: ['es6', 'cjs'],
  },

};
