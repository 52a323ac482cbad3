// Loads the Linkerd wire definitions (the .proto files beside this module, found from the
// project root so that the esbuild bundle in node_modules/.cache finds them too) and gives them
// types. Exports:
// - destinationServiceDefinition(), identityServiceDefinition(): for grpc.Server#addService,
//   with the handler maps DestinationServer and IdentityServer;
// - newDestinationClient(), newIdentityClient() -> DestinationClient, IdentityClient; certify();
// - DESTINATION_GET_PATH, DESTINATION_GET_PROFILE_PATH, IDENTITY_CERTIFY_PATH;
// - PROTO_LOADER_OPTIONS, protoDirectory();
// - message types (destination-types.ts, identity-types.ts, net-types.ts) and the address
//   helpers of net-address.ts (ipv4ToWire, ipv4FromWire, ipv6ToWire, ipv6FromWire, ipAddress,
//   tcpAddress, ipFromWire, tcpAddressFromWire).
// The transport header codec is separate: transport-header.ts.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { projectRoot } from '../project/paths.ts';
import type { DestinationProfile, DestinationProfileOut, GetDestination, GetDestinationOut, Update, UpdateOut } from './destination-types.ts';
import type { CertifyRequest, CertifyRequestOut, CertifyResponse, CertifyResponseOut } from './identity-types.ts';

export type * from './destination-types.ts';
export type * from './identity-types.ts';
export type * from './net-types.ts';
export * from './net-address.ts';

export const DESTINATION_SERVICE = 'io.linkerd.proxy.destination.Destination';
export const IDENTITY_SERVICE = 'io.linkerd.proxy.identity.Identity';
export const DESTINATION_GET_PATH = `/${DESTINATION_SERVICE}/Get`;
export const DESTINATION_GET_PROFILE_PATH = `/${DESTINATION_SERVICE}/GetProfile`;
export const IDENTITY_CERTIFY_PATH = `/${IDENTITY_SERVICE}/Certify`;

/** 64-bit integers come out as decimal strings, enums as names, bytes as Buffers. */
export const PROTO_LOADER_OPTIONS: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

const PROTO_FILES = ['destination.proto', 'identity.proto', 'transport-header.proto'];

export const protoDirectory = (): string => join(projectRoot(), 'proto');

// === services ===

export interface DestinationServer extends grpc.UntypedServiceImplementation {
  Get: grpc.handleServerStreamingCall<GetDestinationOut, Update>;
  GetProfile: grpc.handleServerStreamingCall<GetDestinationOut, DestinationProfile>;
}

export interface IdentityServer extends grpc.UntypedServiceImplementation {
  Certify: grpc.handleUnaryCall<CertifyRequestOut, CertifyResponse>;
}

export interface DestinationClient extends grpc.Client {
  Get(request: GetDestination, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<UpdateOut>;
  GetProfile(request: GetDestination, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<DestinationProfileOut>;
}

export interface IdentityClient extends grpc.Client {
  Certify(
    request: CertifyRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<CertifyResponseOut>,
  ): grpc.ClientUnaryCall;
}

interface Loaded {
  destination: grpc.ServiceClientConstructor;
  identity: grpc.ServiceClientConstructor;
}
let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(PROTO_FILES, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDirectory()] });
  const root = grpc.loadPackageDefinition(definition);
  const lookup = (fullName: string): grpc.ServiceClientConstructor => {
    let node: unknown = root;
    for (const part of fullName.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
    if (typeof node !== 'function') throw new Error(`${fullName} is missing from ${protoDirectory()}`);
    return node as grpc.ServiceClientConstructor;
  };
  return (loaded = { destination: lookup(DESTINATION_SERVICE), identity: lookup(IDENTITY_SERVICE) });
}

export function destinationServiceDefinition(): grpc.ServiceDefinition<DestinationServer> {
  return load().destination.service as grpc.ServiceDefinition<DestinationServer>;
}

export function identityServiceDefinition(): grpc.ServiceDefinition<IdentityServer> {
  return load().identity.service as grpc.ServiceDefinition<IdentityServer>;
}

export function newDestinationClient(address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): DestinationClient {
  const Client = load().destination;
  return new Client(address, credentials, options) as unknown as DestinationClient;
}

export function newIdentityClient(address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): IdentityClient {
  const Client = load().identity;
  return new Client(address, credentials, options) as unknown as IdentityClient;
}

/** One Certify call; rejects with the grpc ServiceError on a non-OK status. */
export function certify(client: IdentityClient, request: CertifyRequest, options: grpc.CallOptions = {}): Promise<CertifyResponseOut> {
  return new Promise((resolve, reject) => {
    client.Certify(request, new grpc.Metadata(), options, (err, response) => {
      if (err) reject(err);
      else if (response) resolve(response);
      else reject(new Error('Certify returned neither a response nor an error'));
    });
  });
}
