// TypeScript shapes of the `io.linkerd.proxy.net` messages (net.proto) as the gRPC loader
// takes them (plain names) and returns them (`...Out`: defaults filled, oneof named).

/** Two big-endian halves as unsigned decimal strings (the loader's `longs: String`). */
export interface IPv6 {
  first: string;
  last: string;
}

export type IPAddress = { ipv4: number } | { ipv6: IPv6 };

export interface TcpAddress {
  ip: IPAddress;
  port: number;
}

export type IPAddressOut =
  | { ip: 'ipv4'; ipv4: number; ipv6?: undefined }
  | { ip: 'ipv6'; ipv6: IPv6; ipv4?: undefined }
  | { ip?: undefined; ipv4?: undefined; ipv6?: undefined };

export interface TcpAddressOut {
  ip: IPAddressOut | null;
  port: number;
}
