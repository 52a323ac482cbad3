# syntax=docker/dockerfile:1
# The project's image: one `multicluster` entrypoint whose subcommands are every component
# (gateway, mirror, destination, identity) and the tooling. `install` and `link` reference it
# as ghcr.io/linkerd-multicluster-ts/multicluster:<package version>; k3d/up.sh builds it
# under that tag. Build: docker build -t ghcr.io/linkerd-multicluster-ts/multicluster:0.1.0 .

# Build stage: install the locked dependencies and bundle the CLI (and every package it
# uses) into one ES module, as bin/multicluster.js does on a developer's machine.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN <<'BUILD'
set -eu
# Beside the sources: the import of esbuild resolves from the script's own directory.
cat > bundle-image.mjs <<'JS'
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from './bin/bundle-options.js';
await build({
  ...BUNDLE_OPTIONS,
  entryPoints: ['cli/main.ts'],
  outfile: 'dist/multicluster.mjs',
  // An executable script (the entrypoint is a symlink to it).
  banner: { js: `#!/usr/bin/env node\n${BUNDLE_OPTIONS.banner.js}` },
  sourcemap: 'linked',
  logLevel: 'warning',
});
JS
node bundle-image.mjs
chmod 0755 dist/multicluster.mjs
# The bundle must start: a missing module would only show up in a pod otherwise.
node dist/multicluster.mjs --help >/dev/null
BUILD

# Runtime: Node only, no npm, no sources, no build tools. The bundle finds its files (the
# .proto definitions) from the project root, which is the directory holding package.json.
FROM node:20-bookworm-slim
RUN groupadd --gid 2103 multicluster \
 && useradd --uid 2103 --gid 2103 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin multicluster \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/proto/*.proto ./proto/
COPY --from=build /src/dist/ ./dist/
RUN ln -s /app/dist/multicluster.mjs /usr/local/bin/multicluster
ENV NODE_ENV=production
# The same uid as the manifests' runAsUser; numeric, so runAsNonRoot can verify it.
USER 2103:2103
ENTRYPOINT ["multicluster"]
CMD ["--help"]
