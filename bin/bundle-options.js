// The esbuild options of the `multicluster` bundle, shared by bin/multicluster.js and the
// benchmarks that run a part the way a user runs it.
export const BUNDLE_OPTIONS = Object.freeze({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS packages call require(); give the ES module one.
  banner: { js: "import { createRequire as __mcCreateRequire } from 'node:module'; const require = __mcCreateRequire(import.meta.url);" },
  // V8 keeps every loaded source in memory: drop white space and dead syntax (~7 MB of
  // RSS), keep identifiers so stack traces still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
});
