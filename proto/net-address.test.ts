import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  InvalidIpAddressError,
  InvalidPortError,
  ipFromWire,
  ipv4FromWire,
  ipv4ToWire,
  ipv6FromWire,
  ipv6ToWire,
  tcpAddress,
  tcpAddressFromWire,
} from './net-address.ts';

test('IPv4 is the big-endian integer', () => {
  assert.equal(ipv4ToWire('10.0.0.1'), 0x0a00_0001);
  assert.equal(ipv4ToWire('255.255.255.255'), 0xffff_ffff);
  assert.equal(ipv4ToWire('0.0.0.0'), 0);
  assert.equal(ipv4ToWire('192.168.1.2'), 0xc0a8_0102);
  assert.equal(ipv4FromWire(0x0a00_0001), '10.0.0.1');
  assert.equal(ipv4FromWire(0xffff_ffff), '255.255.255.255');
  for (const bad of ['10.0.0', '256.0.0.1', '::1', 'localhost', '']) assert.throws(() => ipv4ToWire(bad), InvalidIpAddressError, bad);
  for (const bad of [-1, 2 ** 32, 1.5]) assert.throws(() => ipv4FromWire(bad), InvalidIpAddressError, String(bad));
});

test('IPv6 is two big-endian halves, as unsigned decimal strings', () => {
  assert.deepEqual(ipv6ToWire('2001:db8::1'), { first: (0x2001_0db8n << 32n).toString(), last: '1' });
  assert.deepEqual(ipv6ToWire('::'), { first: '0', last: '0' });
  assert.deepEqual(ipv6ToWire('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), { first: '18446744073709551615', last: '18446744073709551615' });
  assert.deepEqual(ipv6ToWire('::ffff:10.0.0.1'), { first: '0', last: ((0xffffn << 32n) | 0x0a00_0001n).toString() });
  assert.equal(ipv6FromWire({ first: '2306139568115548160', last: '1' }), '2001:db8::1');
  assert.equal(ipv6FromWire({ first: 0, last: 1 }), '::1');
  assert.equal(ipv6FromWire(ipv6ToWire('1:0:0:1:0:0:0:1')), '1:0:0:1::1');
  assert.equal(ipv6FromWire(ipv6ToWire('1:0:1:0:1:0:1:0')), '1:0:1:0:1:0:1:0');
  for (const bad of ['10.0.0.1', 'fe80::1%eth0', ':::', '1:2:3:4:5:6:7:8:9']) assert.throws(() => ipv6ToWire(bad), InvalidIpAddressError, bad);
  assert.throws(() => ipv6FromWire({ first: '18446744073709551616', last: '0' }), InvalidIpAddressError);
});

test('IPv6 round-trips to the canonical (RFC 5952) text of any address', () => {
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
      assert.equal(ipv6FromWire(ipv6ToWire(ip)), canonical);
    }),
    { numRuns: 1000 },
  );
});

test('tcpAddress builds either family and reads back', () => {
  assert.deepEqual(tcpAddress('10.0.0.1', 4143), { ip: { ipv4: 0x0a00_0001 }, port: 4143 });
  assert.deepEqual(tcpAddress('::1', 80), { ip: { ipv6: { first: '0', last: '1' } }, port: 80 });
  assert.throws(() => tcpAddress('10.0.0.1', 65_536), InvalidPortError);
  assert.throws(() => tcpAddress('example.com', 80), InvalidIpAddressError);
  assert.deepEqual(tcpAddressFromWire({ ip: { ip: 'ipv4', ipv4: 0x0a00_0001 }, port: 4143 }), { ip: '10.0.0.1', port: 4143 });
  assert.equal(tcpAddressFromWire({ ip: null, port: 1 }), undefined);
  assert.equal(ipFromWire({}), undefined);
});
