import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, errorMessage, parseLogLevel } from './logger.ts';

test('logger writes one JSON object per line with inherited fields', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), now: () => new Date(0) }).with({ link: 'east' });
  log.info('mirrored', { object: 'ns/svc', reason: 'Created' });
  log.debug('hidden');
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    ts: '1970-01-01T00:00:00.000Z',
    level: 'info',
    msg: 'mirrored',
    link: 'east',
    object: 'ns/svc',
    reason: 'Created',
  });
});

test('errorMessage follows the cause chain', () => {
  assert.equal(errorMessage(new Error('outer', { cause: new Error('inner') })), 'outer: inner');
  assert.equal(errorMessage('plain'), 'plain');
});

test('parseLogLevel rejects unknown levels with a fix', () => {
  assert.throws(() => parseLogLevel('loud'), /use one of debug, info, warn, error/);
});
