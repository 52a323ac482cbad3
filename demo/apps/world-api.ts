// The `world` gRPC API of the demo: one unary and one server-streaming method, messages as
// JSON (the demo has no .proto of its own; grpc-js takes any serializer).
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

export interface GreetRequest {
  name: string;
}
export interface Greeting {
  message: string;
  pod: string;
  cluster: string;
}
export interface CountRequest {
  upTo: number;
}
export interface CountReply {
  n: number;
  pod: string;
}

const json = <T>(): { serialize: (v: T) => Buffer; deserialize: (b: Buffer) => T } => ({
  serialize: (v) => Buffer.from(JSON.stringify(v)),
  deserialize: (b) => JSON.parse(b.toString('utf8')) as T,
});

function method<Req, Res>(name: string, responseStream: boolean): MethodDefinition<Req, Res> {
  const req = json<Req>();
  const res = json<Res>();
  return {
    path: `/demo.World/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
  };
}

export const worldService = {
  Greet: method<GreetRequest, Greeting>('Greet', false),
  Count: method<CountRequest, CountReply>('Count', true),
} satisfies ServiceDefinition;
