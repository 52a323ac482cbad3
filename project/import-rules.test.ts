// The layering rules must reject what they claim to: each case copies one deliberately bad
// file into a scratch tree beside the real rule files and expects the checker to name it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from './paths.ts';

const root = projectRoot();
const scratch = mkdtempSync(join(tmpdir(), 'import-rules-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(scratch, 'tree-'));
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'eslint.config.js', 'package.json']) cpSync(join(root, f), join(dir, f));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function run(dir: string, bin: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(join(root, 'node_modules', '.bin', bin), args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const depcruise = (dir: string) => run(dir, 'depcruise', ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', '.']);

describe('import rules (dependency-cruiser)', () => {
  it('accepts a component that imports model/', () => {
    const dir = tree({ 'model/names.ts': 'export const x = 1;\n', 'mirror/a.ts': "import { x } from '../model/names.ts';\nexport const y = x;\n" });
    const r = depcruise(dir);
    assert.equal(r.code, 0, r.out);
  });

  it('rejects a component importing another component, naming the file', () => {
    const dir = tree({ 'link/b.ts': 'export const b = 1;\n', 'mirror/a.ts': "import { b } from '../link/b.ts';\nexport const y = b;\n" });
    const r = depcruise(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /no-mirror-to-other-components: mirror\/a\.ts → link\/b\.ts/);
  });

  it('rejects production code importing e2e/, naming the file', () => {
    const dir = tree({
      'e2e/fixtures/f.ts': 'export const f = 1;\n',
      'gateway/g.ts': "import { f } from '../e2e/fixtures/f.ts';\nexport const y = f;\n",
    });
    const r = depcruise(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /no-production-to-test-code: gateway\/g\.ts → e2e\/fixtures\/f\.ts/);
  });

  it('rejects an import cycle', () => {
    const dir = tree({
      'kube/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'kube/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    const r = depcruise(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /no-circular: kube\/a\.ts →\s+kube\/b\.ts →\s+kube\/a\.ts/);
  });
});

describe('lint rules (eslint)', () => {
  it('rejects process.env outside command.ts, naming the file', () => {
    const dir = tree({
      'mirror/settings.ts': "export const level = process.env['LOG_LEVEL'];\n",
      'mirror/command.ts': "export const home = process.env['HOME'];\n",
    });
    const r = run(dir, 'eslint', ['mirror/settings.ts', 'mirror/command.ts']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /mirror\/settings\.ts[\s\S]*no-restricted-properties/);
    assert.doesNotMatch(r.out, /mirror\/command\.ts/);
  });

  it('rejects a line over 160 characters in production code', () => {
    const dir = tree({ 'gateway/long.ts': `export const s = '${'x'.repeat(170)}';\n` });
    const r = run(dir, 'eslint', ['gateway/long.ts']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /gateway\/long\.ts[\s\S]*max-len/);
  });
});
