import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { describe, it } from 'node:test';
import { startEmoji, startVoting, startWeb } from './emojivoto.ts';
import { parseTarget } from './traffic.ts';
import { callJson, count, greet, grpcChannel } from './via-outbound.ts';
import { startWorld } from './world.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const host = '127.0.0.1';

describe('demo apps', () => {
  it('world answers HTTP and gRPC (unary and streaming) naming its pod and cluster', async () => {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const world = await startWorld({ host, httpPort, grpcPort, pod: 'world-0', cluster: 'cluster2' });
    try {
      // Host names the target, as through the outbound proxy; here the "proxy" is world itself.
      const http = (await callJson({ host, port: httpPort }, 'world.demo.svc.cluster.local:8080', '/x')) as Record<string, unknown>;
      assert.deepEqual([http['service'], http['pod'], http['cluster'], http['path']], ['world', 'world-0', 'cluster2', '/x']);
      const channel = grpcChannel({ host, port: grpcPort }, 'world.demo.svc.cluster.local:8081');
      assert.deepEqual(await greet(channel, { name: 'hello' }), { message: 'hello hello, from world', pod: 'world-0', cluster: 'cluster2' });
      assert.deepEqual(
        (await count(channel, { upTo: 4 })).map((r) => r.n),
        [1, 2, 3, 4],
      );
      channel.close();
    } finally {
      await world.close();
    }
  });

  it('web combines emoji and voting, and a vote is counted', async () => {
    const [e, v, w] = [await freePort(), await freePort(), await freePort()];
    const emoji = await startEmoji({ host, port: e, pod: 'emoji-0', cluster: 'cluster2' });
    const voting = await startVoting({ host, port: v, pod: 'voting-0', cluster: 'cluster2' });
    // Without a proxy in between, each dependency is reached at its own port; Host still names it.
    const web = await startWeb({
      host,
      port: w,
      pod: 'web-0',
      cluster: 'cluster1',
      outbound: { host, port: e },
      emoji: 'emoji:1',
      voting: 'voting:1',
    });
    try {
      const list = (await callJson({ host, port: e }, 'emoji:1', '/list')) as { emojis: string[] };
      assert.ok(list.emojis.includes(':rocket:'));
      await callJson({ host, port: v }, 'voting:1', '/vote/:rocket:', 'POST');
      assert.deepEqual(((await callJson({ host, port: v }, 'voting:1', '/results')) as { results: unknown }).results, { ':rocket:': 1 });
      await assert.rejects(callJson({ host, port: e }, 'emoji:1', '/find/:nope:'), /404/);
      await assert.rejects(callJson({ host, port: w }, 'web:1', '/'), /502/, 'web reports a failing dependency as 502');
    } finally {
      await Promise.all([emoji.close(), voting.close(), web.close()]);
    }
  });

  it('parses traffic targets and refuses malformed ones', () => {
    assert.deepEqual(parseTarget('web=POST:web.emojivoto.svc.cluster.local:8080/vote/:rocket:'), {
      name: 'web',
      method: 'POST',
      authority: 'web.emojivoto.svc.cluster.local:8080',
      path: '/vote/:rocket:',
    });
    assert.deepEqual(parseTarget('hello=hello.demo.svc.cluster.local:8080'), {
      name: 'hello',
      method: 'GET',
      authority: 'hello.demo.svc.cluster.local:8080',
      path: '/',
    });
    assert.equal(parseTarget('no-equals-sign'), undefined);
    assert.equal(parseTarget('Bad=x:1/'), undefined);
  });
});
