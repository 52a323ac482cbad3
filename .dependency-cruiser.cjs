// Import rules between folders. Components (mirror, link, gateway, destination, identity-service)
// share the domain through model/ and the small shared folders, never through each other.
const COMPONENTS = ['mirror', 'link', 'gateway', 'outbound', 'destination', 'identity-service', 'demo'];
const TESTS = '\\.(test|e2e)\\.ts$';

module.exports = {
  forbidden: [
    ...COMPONENTS.map((c) => ({
      name: `no-${c}-to-other-components`,
      comment: `${c}/ may import model/ and shared folders, never another component`,
      severity: 'error',
      from: { path: `^${c}/`, pathNot: TESTS },
      to: { path: `^(${COMPONENTS.filter((o) => o !== c).join('|')})/` },
    })),
    {
      name: 'no-production-to-test-code',
      comment: 'production code never imports e2e/, bench/ or dev/ (only cli/ may import dev/)',
      severity: 'error',
      from: { pathNot: [TESTS, '^(e2e|bench|dev|cli)/'] },
      to: { path: '^(e2e|bench|dev)/' },
    },
    {
      name: 'cli-only-imports-dev',
      comment: 'cli/ may import dev/ (the dev command), not tests or benchmarks',
      severity: 'error',
      from: { path: '^cli/', pathNot: TESTS },
      to: { path: '^(e2e|bench)/' },
    },
    {
      name: 'dev-is-not-test-code',
      comment: 'dev/ is a user-facing tool: it may not import tests or benchmarks',
      severity: 'error',
      from: { path: '^dev/', pathNot: TESTS },
      to: { path: '^(e2e|bench)/' },
    },
    {
      name: 'model-is-the-bottom',
      comment: 'model/ is the shared domain: it imports only itself and duration/',
      severity: 'error',
      from: { path: '^model/', pathNot: TESTS },
      to: { path: '^(?!model/|duration/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'import cycles make start-up order and layering unclear',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.git)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
