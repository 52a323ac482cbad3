// For the writer tests: a server-streaming gRPC method whose messages are raw bytes, so a test
// sees exactly what the writer put on the wire.
import * as grpc from '@grpc/grpc-js';

const raw = (b: Buffer): Buffer => b;

export const RAW_STREAM_SERVICE: grpc.ServiceDefinition = {
  Stream: {
    path: '/test.Raw/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

export const RawStreamClient = grpc.makeGenericClientConstructor(RAW_STREAM_SERVICE, 'Raw');
