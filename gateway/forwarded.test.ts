import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendForwarded, checkLoop, forwardedElement, splitElements } from './forwarded.ts';
import { GatewayLoopError } from './errors.ts';

const gw = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const web = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const hop = { gatewayId: gw, clientId: web, target: 'api.prod.svc.cluster.local:8080' };

test('the appended element names the gateway, the client and the target as upstream writes it', () => {
  assert.equal(forwardedElement(hop), `by=${gw};for=${web};host=api.prod.svc.cluster.local:8080;proto=https`);
  assert.equal(appendForwarded(['for=1.2.3.4'], hop), `for=1.2.3.4, ${forwardedElement(hop)}`);
  assert.equal(appendForwarded([], hop), forwardedElement(hop));
});

test('a request that already passed this gateway is a loop', () => {
  assert.throws(() => checkLoop(hop, [forwardedElement(hop)]), GatewayLoopError);
  assert.throws(() => checkLoop(hop, ['for=1.2.3.4', `for=x;BY="${gw}"`]), GatewayLoopError);
  assert.throws(
    () => checkLoop(hop, [`for=a, by=${gw};proto=https`]),
    (e: unknown) => e instanceof GatewayLoopError && e.message === 'gateway loop detected',
  );
});

test('a client that is the gateway itself is a loop', () => {
  assert.throws(() => checkLoop({ ...hop, clientId: gw }, []), GatewayLoopError);
});

test('other gateways and look-alike values are not loops', () => {
  assert.doesNotThrow(() => checkLoop(hop, [`by=other-${gw};for=${web}`]));
  assert.doesNotThrow(() => checkLoop(hop, [`for="by=${gw}"`]));
  assert.doesNotThrow(() => checkLoop(hop, []));
});

test('elements split on commas and pairs on semicolons, quotes respected', () => {
  const els = splitElements('for="a,b;c";by=x, host=h:1');
  assert.equal(els.length, 2);
  assert.equal(els[0]?.get('for'), 'a,b;c');
  assert.equal(els[0]?.get('by'), 'x');
  assert.equal(els[1]?.get('host'), 'h:1');
});
