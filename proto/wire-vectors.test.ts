// Fixed byte vectors for the messages a linkerd2-proxy reads from us, encoded through the same
// path our servers use (proto-loader's method serializers). Every expected byte is written out
// by hand from the protobuf encoding rules (key = field << 3 | wire type; varints little-endian
// 7 bits at a time; fixed32/fixed64 little-endian; fields in field-number order), not copied
// from the code's output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { destinationServiceDefinition, identityServiceDefinition, tcpAddress } from './load.ts';
import type { CertifyResponseOut, DestinationProfile, GetDestinationOut, Update, UpdateOut } from './load.ts';

/** Hex with white space and `# comment` to the end of a line. */
const hex = (s: string): Buffer => {
  const digits = s.replace(/#.*$/gm, '').replace(/\s+/g, '');
  assert.match(digits, /^(?:[0-9a-f]{2})*$/, 'malformed hex in the test itself');
  return Buffer.from(digits, 'hex');
};

const destination = destinationServiceDefinition();
const identity = identityServiceDefinition();
const encodeUpdate = (u: Update): Buffer => destination.Get.responseSerialize(u);
const decodeUpdate = (b: Buffer): UpdateOut => destination.Get.responseDeserialize(b) as UpdateOut;
const encodeProfile = (p: DestinationProfile): Buffer => destination.GetProfile.responseSerialize(p);

// TcpAddress 10.0.0.1:4143, used in several vectors (10 bytes).
const TCP_10_0_0_1_4143 = `
  0a 05                  # ip: IPAddress, 5 bytes
    0d 0100000a          #   ipv4 (fixed32): 0x0A000001 little-endian
  10 af20                # port 4143 = 0x102F -> varint af 20`;

test('Update{remove} with an IPv4 TcpAddress', () => {
  const expected = hex(`
    12 0c                # remove: AddrSet, 12 bytes
      0a 0a              #   addrs[0]: TcpAddress, 10 bytes
      ${TCP_10_0_0_1_4143}`);
  assert.deepEqual(encodeUpdate({ remove: { addrs: [tcpAddress('10.0.0.1', 4143)] } }), expected);
  assert.deepEqual(decodeUpdate(expected), {
    update: 'remove',
    remove: { addrs: [{ ip: { ip: 'ipv4', ipv4: 0x0a00_0001 }, port: 4143 }] },
  });
});

test('Update{remove} with an IPv6 TcpAddress', () => {
  const expected = hex(`
    12 1a                          # remove: AddrSet, 26 bytes
      0a 18                        #   addrs[0]: TcpAddress, 24 bytes
        0a 14                      #     ip: IPAddress, 20 bytes
          12 12                    #       ipv6: IPv6, 18 bytes
            09 00000000b80d0120    #         first (fixed64) 0x20010DB800000000 little-endian
            11 0100000000000000    #         last (fixed64) 1
        10 50                      #     port 80`);
  assert.deepEqual(encodeUpdate({ remove: { addrs: [tcpAddress('2001:db8::1', 80)] } }), expected);
  assert.deepEqual(decodeUpdate(expected), {
    update: 'remove',
    remove: { addrs: [{ ip: { ip: 'ipv6', ipv6: { first: '2306139568115548160', last: '1' } }, port: 80 }] },
  });
});

test('Update{add}: a gateway endpoint with identity, H2 hint and authority override', () => {
  const expected = hex(`
    0a 63                      # add: WeightedAddrSet, 99 bytes
      0a 61                    #   addrs[0]: WeightedAddr, 97 bytes
        0a 0a ${TCP_10_0_0_1_4143}
        18 904e                #     weight 10000 = 0x2710 -> varint 90 4e
        22 16                  #     metric_labels entry, 22 bytes
          0a 0d 7a6f6e655f6c6f63616c697479  # key "zone_locality"
          12 05 6c6f63616c                  # value "local"
        2a 13                  #     tls_identity, 19 bytes
          0a 11                #       dns_like_identity, 17 bytes
            0a 0f 6c696e6b6572642d67617465776179  # name "linkerd-gateway"
        32 02                  #     protocol_hint, 2 bytes
          0a 00                #       h2 {}
        3a 1f                  #     authority_override, 31 bytes
          0a 1d 666f6f2e6e732e7376632e636c75737465722e6c6f63616c3a38303830  # "foo.ns.svc.cluster.local:8080"`);
  const update: Update = {
    add: {
      addrs: [
        {
          addr: tcpAddress('10.0.0.1', 4143),
          weight: 10_000,
          metric_labels: { zone_locality: 'local' },
          tls_identity: { dns_like_identity: { name: 'linkerd-gateway' } },
          protocol_hint: { h2: {} },
          authority_override: { authority_override: 'foo.ns.svc.cluster.local:8080' },
        },
      ],
    },
  };
  assert.deepEqual(encodeUpdate(update), expected);
  const decoded = decodeUpdate(expected);
  assert.equal(decoded.update, 'add');
  const addr = decoded.update === 'add' ? decoded.add.addrs[0] : undefined;
  assert.deepEqual(addr?.tls_identity, { strategy: 'dns_like_identity', dns_like_identity: { name: 'linkerd-gateway' }, server_name: null });
  assert.deepEqual(addr?.protocol_hint, { protocol: 'h2', h2: {}, opaque_transport: null });
  assert.deepEqual(addr?.authority_override, { authority_override: 'foo.ns.svc.cluster.local:8080' });
  assert.equal(addr?.http2, null);
});

test('Update{add}: a remote pod with server name, opaque transport and set labels', () => {
  const expected = hex(`
    0a 3b                      # add: WeightedAddrSet, 59 bytes
      0a 28                    #   addrs[0]: WeightedAddr, 40 bytes
        0a 0a ${TCP_10_0_0_1_4143}
        18 904e                #     weight 10000
        2a 0e                  #     tls_identity, 14 bytes
          0a 05 0a 03 612e62   #       dns_like_identity { name "a.b" }
          22 05 0a 03 612e62   #       server_name (field 4) { name "a.b" }
        32 07                  #     protocol_hint, 7 bytes
          12 03 08 af20        #       opaque_transport (field 2) { inbound_port 4143 }
          1a 00                #       opaque (field 3) {}
      12 0f                    #   metric_labels entry, 15 bytes
        0a 09 6e616d657370616365  # key "namespace"
        12 02 6e73                # value "ns"`);
  const update: Update = {
    add: {
      addrs: [
        {
          addr: tcpAddress('10.0.0.1', 4143),
          weight: 10_000,
          tls_identity: { dns_like_identity: { name: 'a.b' }, server_name: { name: 'a.b' } },
          protocol_hint: { opaque: {}, opaque_transport: { inbound_port: 4143 } },
        },
      ],
      metric_labels: { namespace: 'ns' },
    },
  };
  assert.deepEqual(encodeUpdate(update), expected);
});

test('Update{add}: HTTP/2 keep-alive parameters', () => {
  const expected = hex(`
    0a 1f                      # add: WeightedAddrSet, 31 bytes
      0a 1d                    #   addrs[0]: WeightedAddr, 29 bytes
        0a 0a ${TCP_10_0_0_1_4143}
        18 904e                #     weight 10000
        42 0c                  #     http2 (field 8), 12 bytes
          12 0a                #       keep_alive (field 2), 10 bytes
            0a 02 08 0a        #         interval: Duration { seconds 10 }
            12 02 08 03        #         timeout: Duration { seconds 3 }
            18 01              #         while_idle true`);
  const update: Update = {
    add: {
      addrs: [
        {
          addr: tcpAddress('10.0.0.1', 4143),
          weight: 10_000,
          http2: { keep_alive: { interval: { seconds: 10 }, timeout: { seconds: 3 }, while_idle: true } },
        },
      ],
    },
  };
  assert.deepEqual(encodeUpdate(update), expected);
});

test('Update{no_endpoints}', () => {
  assert.deepEqual(encodeUpdate({ no_endpoints: { exists: true } }), hex('1a 02  08 01  # no_endpoints { exists true }'));
  // protobufjs writes a field that is present in the object even at its proto3 default (Go
  // would leave it out); readers take both forms the same way.
  assert.deepEqual(encodeUpdate({ no_endpoints: { exists: false } }), hex('1a 02  08 00  # no_endpoints { exists false }'));
  assert.deepEqual(decodeUpdate(hex('1a 02 08 00')), { update: 'no_endpoints', no_endpoints: { exists: false } });
  assert.deepEqual(decodeUpdate(hex('1a 00')), { update: 'no_endpoints', no_endpoints: { exists: false } });
});

test('DestinationProfile{fully_qualified_name, opaque_protocol}', () => {
  const expected = hex(`
    20 01                      # opaque_protocol (field 4, varint) true
    2a 18 666f6f2e6e732e7376632e636c75737465722e6c6f63616c  # fully_qualified_name (field 5) "foo.ns.svc.cluster.local"`);
  assert.deepEqual(encodeProfile({ fully_qualified_name: 'foo.ns.svc.cluster.local', opaque_protocol: true }), expected);
});

test('DestinationProfile with a retry budget', () => {
  const expected = hex(`
    12 0b                      # retry_budget (field 2), 11 bytes
      0d cdcc4c3e              #   retry_ratio (float) 0.2 = 0x3E4CCCCD little-endian
      10 0a                    #   min_retries_per_second 10
      1a 02 08 0a              #   ttl: Duration { seconds 10 }
    2a 03 612e62               # fully_qualified_name "a.b"`);
  const profile: DestinationProfile = {
    fully_qualified_name: 'a.b',
    retry_budget: { retry_ratio: 0.2, min_retries_per_second: 10, ttl: { seconds: 10 } },
  };
  assert.deepEqual(encodeProfile(profile), expected);
});

test('GetDestination as a proxy sends it', () => {
  const wire = hex(`
    12 1d 666f6f2e6e732e7376632e636c75737465722e6c6f63616c3a38303830  # path "foo.ns.svc.cluster.local:8080"
    1a 0a 7b226e73223a2261227d                                        # context_token {"ns":"a"}`);
  const decoded = destination.Get.requestDeserialize(wire) as GetDestinationOut;
  assert.deepEqual(decoded, { scheme: '', path: 'foo.ns.svc.cluster.local:8080', context_token: '{"ns":"a"}' });
  assert.deepEqual(destination.GetProfile.requestSerialize({ path: 'foo.ns.svc.cluster.local:8080', context_token: '{"ns":"a"}' }), wire);
});

test('CertifyRequest and CertifyResponse', () => {
  const request = hex(`
    0a 03 612e62               # identity "a.b"
    12 03 746f6b               # token "tok"
    1a 05 3003020100           # certificate_signing_request (DER bytes)`);
  assert.deepEqual(
    identity.Certify.requestSerialize({ identity: 'a.b', token: Buffer.from('tok'), certificate_signing_request: hex('3003020100') }),
    request,
  );
  assert.deepEqual(identity.Certify.requestDeserialize(request), {
    identity: 'a.b',
    token: Buffer.from('tok'),
    certificate_signing_request: hex('3003020100'),
  });

  const response = hex(`
    0a 02 3000                 # leaf_certificate
    12 03 300100               # intermediate_certificates[0]
    12 02 3000                 # intermediate_certificates[1]
    1a 06                      # valid_until: Timestamp, 6 bytes
      08 80e2cfaa06            #   seconds 1700000000 = 0x6553F100 -> varint 80 e2 cf aa 06`);
  const body = { leaf_certificate: hex('3000'), intermediate_certificates: [hex('300100'), hex('3000')], valid_until: { seconds: 1_700_000_000 } };
  assert.deepEqual(identity.Certify.responseSerialize(body), response);
  const decoded = identity.Certify.responseDeserialize(response) as CertifyResponseOut;
  assert.deepEqual(decoded.valid_until, { seconds: '1700000000', nanos: 0 });
  assert.deepEqual(decoded.intermediate_certificates, [hex('300100'), hex('3000')]);
});
