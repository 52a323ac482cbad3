// The k3d scripts cannot run where the tests run (no Docker), so shellcheck is their guard:
// it must be installed (.ci/run installs it), and a missing shellcheck fails, never skips.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const SCRIPTS = ['up.sh', 'e2e.sh', 'down.sh'];

function shellcheck(args: readonly string[]): Promise<{ code: number | string; out: string }> {
  return new Promise((resolve) => {
    execFile('shellcheck', [...args], { cwd: here }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ code, out: `${String(stdout)}${String(stderr)}` });
    });
  });
}

test('the k3d scripts pass shellcheck (following lib.sh)', async () => {
  const version = await shellcheck(['--version']);
  assert.notEqual(version.code, 'ENOENT', 'shellcheck is not installed: apt-get install shellcheck (.ci/run does)');
  assert.equal(version.code, 0, version.out);
  const r = await shellcheck(['--external-sources', '--severity=style', ...SCRIPTS]);
  assert.equal(r.code, 0, r.out);
});

test('the k3d scripts stop on errors and check their prerequisites', async () => {
  for (const name of SCRIPTS) {
    const text = await readFile(join(here, name), 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env bash\n/, `${name}: bash shebang`);
    assert.match(text, /^set -euo pipefail$/m, `${name}: set -euo pipefail`);
    assert.match(text, /^trap on_error ERR$/m, `${name}: failures name their step`);
    assert.match(text, /need(_docker|_node)?\b/, `${name}: checks its prerequisites`);
  }
});
